// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.rest;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** How a DataSnap REST path is read (rest.md): positional arguments, an empty segment an empty one. */
class RestCallTest {

  /**
   * The JavaScript framework's poll names no channel and no callback id: its ClientId is the second
   * argument, not the first. Before, empty segments were dropped and the token was taken for the
   * ClientId.
   */
  @Test
  void emptySegmentsAreEmptyArgumentsInTheirPlace() {
    RestCall poll = RestCall.parse("DSAdmin/ConsumeClientChannel//client-7///token-9/true/", null, null);
    assertThat(poll.is("DSAdmin", "ConsumeClientChannel")).isTrue();
    assertThat(poll.arg(0)).as("no channel name").isNull();
    assertThat(poll.arg(1)).isEqualTo("client-7");
    assertThat(poll.arg(2)).as("no callback id").isNull();
    assertThat(poll.arg(4)).isEqualTo("token-9");
    assertThat(poll.arg(5)).isEqualTo("true");
    assertThat(poll.arg(6)).as("the trailing slash makes no argument").isNull();
  }

  @Test
  void aQuotedMethodNameIsTheMethod() {
    RestCall call = RestCall.parse("DSAdmin/%22BroadcastToChannel%22/news/", null, null);
    assertThat(call.is("DSAdmin", "BroadcastToChannel")).isTrue();
    assertThat(call.arg(0)).isEqualTo("news");
  }

  /**
   * The framework keeps its session id for dssessionexpires after the last answer: it must be the
   * idle time dstunnel forgets sessions after, not the backend's. Before, the backend's 1,200,000 ms
   * passed through.
   */
  @Test
  void dssessionexpiresIsWhatDstunnelHonours() {
    assertThat(RestCall.withExpiry("dssession=abc,dssessionexpires=1200000", 600000))
        .isEqualTo("dssession=abc,dssessionexpires=600000");
    assertThat(RestCall.withExpiry("dssession=abc", 600000)).isEqualTo("dssession=abc,dssessionexpires=600000");
    assertThat(RestCall.withExpiry("no-cache", 600000)).isEqualTo("no-cache");
  }
}
