// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session.copy;

import io.dstunnel.session.message.Progress;
import io.vertx.core.buffer.Buffer;
import java.util.List;

/**
 * The cluster's view of a session: what its copies on other nodes are made of, read on the
 * session's event loop when {@link Replication} is told of it. The session keeps its insides (its
 * log, answers and failover); the cluster sees only this. The log can hold credentials: it goes to
 * other nodes' copies only, never to a log line. A session is taken over from a copy by sending an
 * {@link Adoption} to the session verticles, and handed over through {@link Replication#handOver}.
 */
public interface ReplicatedSession {

  /** The session's id. */
  String id();

  /** The user who opened the session. */
  String owner();

  /** Whether the log is still whole (so a copy of it can still be adopted). */
  boolean replayable();

  /**
   * Every byte the client wrote since the open, in order, as a copy keeps it: with the calls that
   * a failover on this node would leave out (session.replaySkip, push answers), since a copy
   * cannot tell them.
   */
  List<Buffer> log();

  /** The length of the session's stream so far (every byte of {@link #log}); called as a write is taken, where it ends. */
  long logBytes();

  /** How many ranges of the log a replay leaves out (see {@link #exclusionsSince}). */
  int exclusions();

  /**
   * The ranges of the log left out of replays after the first {@code from} ({start, end, …}):
   * calls that ran and must not run again, a channel client's answers to pushes. A copy keeps them,
   * so that its adopter leaves them out too.
   */
  List<Long> exclusionsSince(int from);

  /** How many command handles the session has learned (see {@link #handlesSince}). */
  int handles();

  /** The command handles learned after the first {@code from}, as "handle=method": a copy keeps them for its adopter. */
  List<String> handlesSince(int from);

  /** How far the client has got (a hand-over tells the new owner to skip that much). */
  Progress progress();
}
