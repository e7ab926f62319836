// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import io.dstunnel.session.copy.Handout;
import io.vertx.core.Future;
import java.util.List;

/** What this node knows of a session it owns (kept by {@link ClusterReplication}). */
final class Ownership {
  long epoch;
  List<String> backups;
  Future<Void> copies = Future.succeededFuture();
  long verifiedAt = System.nanoTime();
  /** When the copies were last checked for being idle (a keep-alive). */
  long checkedAt = System.nanoTime();
  /** A holder was out of reach during a copy: the next copy is a whole one. */
  boolean resync;
  /**
   * Since when (nanoTime) a copy holder has neither answered nor been found gone, or 0: every
   * request of the session waits for it until 10 × suspectAfterMs from then, not from its own start.
   */
  long silentSince;
  /** When the directory's record was last put (its time to live runs from there); 0: its last put failed. */
  long recordAt = System.nanoTime();
  boolean dropSent;
  /** The last answer bytes handed out, as the copies know them. */
  Handout handout = Handout.NONE;
  /** How many of the log's left-out ranges the copies were told of. */
  int exclusionsSent;
  /** How many of the session's command handles the copies were told of. */
  int handlesSent;
  final WriteIds writeIds = new WriteIds();
  /**
   * Holders being given a whole copy right now ({@link CopyHolders#replaceBackup}), not yet acknowledged:
   * they hold nothing of this owner's yet, so nothing waits for them to say who owns it.
   */
  final java.util.Set<String> pending = new java.util.HashSet<>();
}
