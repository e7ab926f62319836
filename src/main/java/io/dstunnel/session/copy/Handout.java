// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session.copy;

import io.dstunnel.session.message.Progress;

/**
 * The last bytes a read handed out, as the session's copies know them: what the client had
 * before ({@code before}) and has once they arrive ({@code after}), and the read that took them
 * ({@code origin}, the node that relayed it, or null when the owner answered it itself;
 * {@code readId}), and whether the owner had handed its bytes to its HTTP side ({@code sent}). The request that finds the owner dead settles which of the two the client has:
 * a write, or another read, says the client had them (a DBX client asks again only after a whole
 * answer, and reads one at a time); the same read asking again says it did not.
 */
public record Handout(Progress before, Progress after, String origin, long readId, boolean sent) {

  /** Nothing handed out yet. */
  public static final Handout NONE = new Handout(Progress.NONE, Progress.NONE, null, 0, true);

  /** What the client has, as the request that noticed the owner's death ({@code readId} from {@code origin}) says. */
  public Progress settledBy(boolean read, String origin, long readId) {
    boolean sameRead = read && readId != 0 && readId == this.readId && java.util.Objects.equals(origin, this.origin);
    // A read the owner answered itself, its bytes not yet on their way when it died: the client's
    // connection broke under it, and the read the client sends again is owed them.
    boolean neverSent = read && this.origin == null && !sent;
    return sameRead || neverSent ? before : after;
  }

  /** The same hand-out, its bytes on their way to the client. */
  public Handout written() {
    return new Handout(before, after, origin, readId, true);
  }
}
