// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session.message;

import io.vertx.core.buffer.Buffer;

/**
 * A session's answer to a {@link TunnelCommand}: bytes accepted (with the count), bytes read (and
 * their offset in the session's answer stream), "no data yet" at the end of a read slice, or a
 * {@link SessionFailure} with its message.
 */
public record TunnelReply(Kind kind, SessionFailure failure, String message, String sessionId, int count,
                          Buffer data, long offset) {

  /** What the reply is. */
  public enum Kind { ACCEPTED, DATA, NO_DATA_YET, FAILED }

  public static TunnelReply accepted(String sid, int count) {
    return new TunnelReply(Kind.ACCEPTED, null, null, sid, count, null, 0);
  }

  public static TunnelReply data(Buffer data, long offset) {
    return new TunnelReply(Kind.DATA, null, null, null, data.length(), data, offset);
  }

  /** A read slice ended without data; the HTTP side polls again. */
  public static TunnelReply noDataYet() {
    return new TunnelReply(Kind.NO_DATA_YET, null, null, null, 0, null, 0);
  }

  public static TunnelReply failed(SessionFailure failure, String message) {
    return new TunnelReply(Kind.FAILED, failure, message, null, 0, null, 0);
  }

  public boolean isFailure() {
    return kind == Kind.FAILED;
  }
}
