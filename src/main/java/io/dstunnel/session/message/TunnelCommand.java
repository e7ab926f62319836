// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session.message;

import io.vertx.core.buffer.Buffer;

/**
 * A tunnel request as the HTTP verticle hands it to a session over the event bus.
 *
 * @param kind what to do
 * @param sessionId the session (null on {@link Kind#OPEN})
 * @param user the authenticated user, or null when the request carried no credentials
 * @param body bytes to write ({@link Kind#OPEN}, {@link Kind#WRITE}, {@link Kind#UNREAD})
 * @param count most bytes wanted ({@link Kind#READ})
 * @param readId the read's id ({@link Kind#READ}, {@link Kind#CANCEL_READ}); on a {@link Kind#WRITE} in a
 *     cluster, the write's id (a forwarded write sent again to a new owner is applied once), else 0
 * @param offset stream offset of the returned bytes ({@link Kind#UNREAD})
 * @param sliceMs how long the session may hold the read before answering "no data yet" ({@link Kind#READ})
 */
public record TunnelCommand(Kind kind, String sessionId, String user, Buffer body, int count, long readId,
                            long offset, long sliceMs) {

  /** The request kinds. */
  /** What the command is; {@code DELIVERED}: a relayed read's answer went to its client (cluster mode). */
  public enum Kind { OPEN, WRITE, READ, CLOSE, CANCEL_READ, UNREAD, DELIVERED }

  public static TunnelCommand open(String user, Buffer body) {
    return new TunnelCommand(Kind.OPEN, null, user, body, 0, 0, 0, 0);
  }

  public static TunnelCommand write(String sid, String user, Buffer body) {
    return new TunnelCommand(Kind.WRITE, sid, user, body, 0, 0, 0, 0);
  }

  /** A write with an id of its own (cluster mode). */
  public static TunnelCommand write(String sid, String user, Buffer body, long writeId) {
    return new TunnelCommand(Kind.WRITE, sid, user, body, 0, writeId, 0, 0);
  }

  public static TunnelCommand read(String sid, String user, int count, long readId, long sliceMs) {
    return new TunnelCommand(Kind.READ, sid, user, null, count, readId, 0, sliceMs);
  }

  public static TunnelCommand close(String sid, String user) {
    return new TunnelCommand(Kind.CLOSE, sid, user, null, 0, 0, 0, 0);
  }

  public static TunnelCommand cancelRead(String sid, String user, long readId) {
    return new TunnelCommand(Kind.CANCEL_READ, sid, user, null, 0, readId, 0, 0);
  }

  /**
   * Read {@code readId}'s answer, relayed by another node than the owner, is being written to its
   * client: the owner learns that the client has it.
   */
  public static TunnelCommand delivered(String sid, String user, long readId) {
    return new TunnelCommand(Kind.DELIVERED, sid, user, null, 0, readId, 0, 0);
  }

  public static TunnelCommand unread(String sid, String user, Buffer bytes, long offset) {
    return new TunnelCommand(Kind.UNREAD, sid, user, bytes, 0, 0, offset, 0);
  }
}
