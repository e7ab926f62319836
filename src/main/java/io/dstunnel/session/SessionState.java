// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session;

import java.util.EnumSet;
import java.util.Set;

/** Life of a tunnel session; {@link #to} refuses transitions the design does not allow. */
public enum SessionState {
  /** Choosing a backend and connecting for the first time; not yet known to the client. */
  OPENING,
  /** Connected (or idle with its backend gone, to be replaced on the next write). */
  ACTIVE,
  /** Its backend failed: connecting to another and replaying the session's writes. */
  FAILING_OVER,
  /** Could not be failed over: remaining answers can be read, then requests get 502. */
  FAILED,
  /** Closed by the client, expired or removed: gone for good. */
  CLOSED;

  private Set<SessionState> next() {
    return switch (this) {
      case OPENING -> EnumSet.of(ACTIVE, FAILED, CLOSED);
      case ACTIVE -> EnumSet.of(FAILING_OVER, FAILED, CLOSED);
      case FAILING_OVER -> EnumSet.of(ACTIVE, FAILED, CLOSED);
      case FAILED -> EnumSet.of(CLOSED);
      case CLOSED -> EnumSet.noneOf(SessionState.class);
    };
  }

  /** Returns {@code next}, or throws when this state may not move to it. */
  public SessionState to(SessionState next) {
    if (!next().contains(next)) {
      throw new IllegalStateException("session cannot go from " + this + " to " + next);
    }
    return next;
  }
}
