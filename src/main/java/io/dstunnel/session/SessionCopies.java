// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.util.List;

/**
 * What the cluster's copies of a session are made of, and how a session is taken over from one.
 * The log can hold credentials: it goes to other nodes' copies only, never to a log line.
 */
public final class SessionCopies {

  private SessionCopies() {
  }

  /** Whether the log is still whole (so a copy of it can still be adopted). */
  public static boolean replayable(Session session) {
    return session.log().replayable();
  }

  /**
   * Every byte the client wrote since the open, in order, as a copy keeps it: with the calls that
   * a failover on this node would leave out (session.replaySkip, push answers), since a copy
   * cannot tell them.
   */
  public static List<Buffer> log(Session session) {
    return List.copyOf(session.log().raw());
  }

  /** The length of the session's stream so far (every byte of {@link #log}); called as a write is taken, where it ends. */
  public static long logBytes(Session session) {
    return session.log().bytes();
  }

  /** How many ranges of the log a replay leaves out (see {@link #exclusionsSince}). */
  public static int exclusions(Session session) {
    return session.log().exclusions();
  }

  /**
   * The ranges of the log left out of replays after the first {@code from} ({start, end, …}):
   * calls that ran and must not run again, a channel client's answers to pushes. A copy keeps them,
   * so that its adopter leaves them out too.
   */
  public static List<Long> exclusionsSince(Session session, int from) {
    return session.log().exclusionsSince(from);
  }

  /** How many command handles the session has learned (see {@link #handlesSince}). */
  public static int handles(Session session) {
    return session.calls().handlesLearned();
  }

  /** The command handles learned after the first {@code from}, as "handle=method": a copy keeps them for its adopter. */
  public static List<String> handlesSince(Session session, int from) {
    return session.calls().handlesSince(from);
  }

  /** How far the client has got (a hand-over tells the new owner to skip that much). */
  public static Progress progress(Session session) {
    return session.progress();
  }

  /** Takes over a session from its copy: its log is replayed to a backend (see {@link Failover}). */
  static Future<TunnelReply> adopt(Session session, Adoption adoption) {
    return session.failover().adopt(adoption);
  }
}
