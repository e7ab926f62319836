// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.rest;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.StreamResetException;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** Which failures of a sent REST request mean the backend never answered on that connection. */
class RestRepliesTest {

  @Test
  void aPooledConnectionClosedUnderTheRequestIsUnanswered() {
    assertThat(RestReplies.closedUnanswered(new HttpClosedException("Connection was closed"))).isTrue();
    assertThat(RestReplies.closedUnanswered(new IOException("Connection reset by peer"))).isTrue();
  }

  /**
   * The flake CI met in RestTest.aChannelWhoseBackendDiedIsOpenedElsewhereByItsNextConsume: the
   * request went out on a pooled connection to the killed server, its write failed before the
   * close event came, and vertx-http-proxy reset the stream (no cause): a 502 instead of the retry.
   */
  @Test
  void aStreamResetBecauseTheRequestCouldNotBeWrittenIsUnanswered() {
    assertThat(RestReplies.closedUnanswered(new StreamResetException(0))).isTrue();
  }

  @Test
  void aStreamResetBecauseTheClientWentAwayIsNot() {
    assertThat(RestReplies.closedUnanswered(new StreamResetException(0, new HttpClosedException("client")))).isFalse();
    assertThat(RestReplies.closedUnanswered(new IllegalStateException("Response head already sent"))).isFalse();
  }
}
