// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session.message;

import io.vertx.core.buffer.Buffer;

/**
 * A tunnel request as the HTTP verticle hands it to a session over the event bus.
 *
 * @param kind what to do
 * @param sessionId the session (null on {@link Kind#OPEN})
 * @param user the authenticated user ({@link Acting#USER}), else null
 * @param acting who acts ({@link Acting}); null: nobody said, and no session takes it
 * @param body bytes to write ({@link Kind#OPEN}, {@link Kind#WRITE}, {@link Kind#UNREAD})
 * @param count most bytes wanted ({@link Kind#READ})
 * @param readId the read's id ({@link Kind#READ}, {@link Kind#CANCEL_READ}); on a {@link Kind#WRITE} in a
 *     cluster, the write's id (a forwarded write sent again to a new owner is applied once), else 0
 * @param offset stream offset of the returned bytes ({@link Kind#UNREAD})
 * @param sliceMs how long the session may hold the read before answering "no data yet" ({@link Kind#READ})
 */
public record TunnelCommand(Kind kind, String sessionId, String user, Acting acting, Buffer body, int count,
                            long readId, long offset, long sliceMs) {

  /** The request kinds. */
  /** What the command is; {@code DELIVERED}: a relayed read's answer went to its client (cluster mode). */
  public enum Kind { OPEN, WRITE, READ, CLOSE, CANCEL_READ, UNREAD, DELIVERED }

  /**
   * On whose behalf a command acts, which the session checks against the user who opened it
   * before anything else ({@link #mayAct}): a command always says it, wherever it comes from (the
   * HTTP side of this node, another node's forward); one that does not is refused as another
   * user's would be.
   */
  public enum Acting {
    /** A client whose credentials the HTTP side checked: {@link #user()}. Only the session's owner passes. */
    USER,
    /**
     * A client that gave no credentials on a request after the open, to a node that checks them
     * on the open (tunnel-protocol.md: a later request that carries credentials must carry the
     * owner's; one without is served): its proof is the session id.
     */
    SESSION_ID,
    /**
     * A client of a node that authenticates nobody (no users configured): only a session opened
     * without authentication (no owner) takes it.
     */
    NO_AUTH,
    /**
     * An operator: a close through the admin listener, which has checked the operator's role.
     * Made only there ({@link #operatorClose}); a session takes it for a close and nothing else.
     */
    OPERATOR
  }

  public static TunnelCommand open(String user, Buffer body) {
    return new TunnelCommand(Kind.OPEN, null, user, client(user), body, 0, 0, 0, 0);
  }

  public static TunnelCommand write(String sid, String user, Buffer body) {
    return new TunnelCommand(Kind.WRITE, sid, user, client(user), body, 0, 0, 0, 0);
  }

  /** A write with an id of its own (cluster mode). */
  public static TunnelCommand write(String sid, String user, Buffer body, long writeId) {
    return new TunnelCommand(Kind.WRITE, sid, user, client(user), body, 0, writeId, 0, 0);
  }

  public static TunnelCommand read(String sid, String user, int count, long readId, long sliceMs) {
    return new TunnelCommand(Kind.READ, sid, user, client(user), null, count, readId, 0, sliceMs);
  }

  public static TunnelCommand close(String sid, String user) {
    return new TunnelCommand(Kind.CLOSE, sid, user, client(user), null, 0, 0, 0, 0);
  }

  /**
   * An operator's close of session {@code sid}: made only by the admin listener's close
   * ({@code admin.AdminApi}), once the operator's role was checked (a test keeps it so).
   */
  public static TunnelCommand operatorClose(String sid) {
    return new TunnelCommand(Kind.CLOSE, sid, null, Acting.OPERATOR, null, 0, 0, 0, 0);
  }

  public static TunnelCommand cancelRead(String sid, String user, long readId) {
    return new TunnelCommand(Kind.CANCEL_READ, sid, user, client(user), null, 0, readId, 0, 0);
  }

  /**
   * Read {@code readId}'s answer, relayed by another node than the owner, is being written to its
   * client: the owner learns that the client has it.
   */
  public static TunnelCommand delivered(String sid, String user, long readId) {
    return new TunnelCommand(Kind.DELIVERED, sid, user, client(user), null, 0, readId, 0, 0);
  }

  public static TunnelCommand unread(String sid, String user, Buffer bytes, long offset) {
    return new TunnelCommand(Kind.UNREAD, sid, user, client(user), bytes, 0, 0, offset, 0);
  }

  /** A user's command ({@link Acting#USER}); with no user, one that says nobody (null) until {@link #by}. */
  private static Acting client(String user) {
    return user == null ? null : Acting.USER;
  }

  /**
   * This command of a client that gave no credentials: {@link Acting#SESSION_ID} on a node that
   * checks them, {@link Acting#NO_AUTH} on one that has no users.
   */
  public TunnelCommand by(Acting clientWithoutCredentials) {
    if (user != null || clientWithoutCredentials != Acting.SESSION_ID && clientWithoutCredentials != Acting.NO_AUTH) {
      throw new IllegalArgumentException(clientWithoutCredentials + " for a command of user " + user);
    }
    return new TunnelCommand(kind, sessionId, null, clientWithoutCredentials, body, count, readId, offset, sliceMs);
  }

  /** This read, held at most {@code ms} (a forwarded read's slice). */
  public TunnelCommand slice(long ms) {
    return new TunnelCommand(kind, sessionId, user, acting, body, count, readId, offset, ms);
  }

  /**
   * Whether this command may act on a session that {@code owner} opened (null: opened without
   * authentication): the owner's own, an operator's close, a client that proved itself by the
   * session id alone where that is allowed. Nothing else, and nothing that says nobody.
   */
  public boolean mayAct(String owner) {
    if (acting == null) {
      return false;
    }
    return switch (acting) {
      case USER -> user != null && user.equals(owner);
      case SESSION_ID -> true;
      case NO_AUTH -> owner == null;
      case OPERATOR -> kind == Kind.CLOSE;
    };
  }
}
