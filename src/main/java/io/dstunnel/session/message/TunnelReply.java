// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session.message;

import io.vertx.core.buffer.Buffer;

/**
 * A session's answer to a {@link TunnelCommand}: bytes accepted (with the count), bytes read (and
 * their offset in the session's answer stream), "no data yet" at the end of a read slice, or a
 * {@link SessionFailure} with its message. In a cluster, a read's answer relayed by another node
 * says in its message ({@link #TAKEN_BACK_IF_LOST}) that the owner keeps it to take back should
 * that node not pass it on, and the owner's refusal of a read relayed by a node out of its view
 * says so ({@link #outOfView}): the message is how older and newer nodes tell, without a field
 * of the wire format they would not know.
 */
public record TunnelReply(Kind kind, SessionFailure failure, String message, String sessionId, int count,
                          Buffer data, long offset) {

  /** The message of a relayed read's answer that its owner keeps to take back (see {@link #takenBackIfLost}). */
  public static final String TAKEN_BACK_IF_LOST = "taken back if lost";
  private static final String OUT_OF_VIEW = "The proxy node this read came through is out of the cluster (cut off or "
      + "paused): try again";

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

  /** This answer, kept by its owner to take back if the node relaying it does not pass it on. */
  public TunnelReply takenBackIfLost() {
    return new TunnelReply(kind, failure, TAKEN_BACK_IF_LOST, sessionId, count, data, offset);
  }

  /** Whether the owner keeps this answer to take back if the node relaying it does not pass it on. */
  public boolean isTakenBackIfLost() {
    return kind == Kind.DATA && TAKEN_BACK_IF_LOST.equals(message);
  }

  /** An owner's refusal of a read relayed by a node out of its view (503): nothing was handed out. */
  public static TunnelReply outOfView() {
    return failed(SessionFailure.CUT_OFF, OUT_OF_VIEW);
  }

  /** Whether this is an owner's refusal of a read relayed by a node out of its view ({@link #outOfView}). */
  public boolean isOutOfView() {
    return failure == SessionFailure.CUT_OFF && OUT_OF_VIEW.equals(message);
  }

  public boolean isFailure() {
    return kind == Kind.FAILED;
  }
}
