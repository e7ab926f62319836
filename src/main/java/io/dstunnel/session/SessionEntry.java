// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session;

import io.dstunnel.session.copy.Replication;
import io.dstunnel.session.message.TunnelCommand;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.eventbus.MessageConsumer;

/**
 * A session of a session verticle and its address. In a cluster, also the ownership checks queued
 * for it (each request's check runs after the one before, so requests stay in order), whether
 * this node has let it go to another node, and the answers other nodes relayed for it. A removed
 * session's address answers a while longer.
 */
final class SessionEntry {
  private final Session session;
  private final SessionCopyView copy;
  private final MessageConsumer<TunnelCommand> consumer;
  private Future<Boolean> owned = Future.succeededFuture(true);
  private boolean forgotten;
  private boolean removed;
  /** The answers of its reads that other nodes relayed (a cluster's; unused on a single node). */
  final RelayedAnswers relayed;

  /** {@code context}: the session verticle's, where everything of the session happens. */
  SessionEntry(Session session, MessageConsumer<TunnelCommand> consumer, Replication replication, Context context) {
    this.session = session;
    this.copy = new SessionCopyView(session);
    this.consumer = consumer;
    this.relayed = new RelayedAnswers(this, replication, context);
  }

  Session session() {
    return session;
  }

  /** The session as the cluster sees it, for {@link Replication}; also how it is taken over from a copy. */
  SessionCopyView copy() {
    return copy;
  }

  MessageConsumer<TunnelCommand> consumer() {
    return consumer;
  }

  /** Whether this node owns the session, once the last ownership check queued is done. */
  Future<Boolean> owned() {
    return owned;
  }

  /** Queues {@code check} after the ones before it (it is built on {@link #owned}). */
  void checkOwned(Future<Boolean> check) {
    owned = check;
  }

  /** Whether this node has let the session go to another node (or never took it over). */
  boolean forgotten() {
    return forgotten;
  }

  void markForgotten() {
    forgotten = true;
  }

  /** Whether the session is gone from here; its address answers a while longer. */
  boolean removed() {
    return removed;
  }

  void markRemoved() {
    removed = true;
  }
}
