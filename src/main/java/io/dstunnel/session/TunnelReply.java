package io.dstunnel.session;

import io.vertx.core.buffer.Buffer;

/**
 * A session's answer to a {@link TunnelCommand}: an HTTP status with either the accepted byte
 * count, the bytes read (and their offset in the session's answer stream), or an error message.
 */
public record TunnelReply(int status, String error, String sessionId, int count, Buffer data, long offset) {

  /** Internal status of a read slice that ended without data; the HTTP side polls again. */
  public static final int NO_DATA_YET = 204;

  public static TunnelReply accepted(String sid, int count) {
    return new TunnelReply(200, null, sid, count, null, 0);
  }

  public static TunnelReply data(Buffer data, long offset) {
    return new TunnelReply(200, null, null, data.length(), data, offset);
  }

  public static TunnelReply noDataYet() {
    return new TunnelReply(NO_DATA_YET, null, null, 0, null, 0);
  }

  public static TunnelReply error(int status, String message) {
    return new TunnelReply(status, message, null, 0, null, 0);
  }
}
