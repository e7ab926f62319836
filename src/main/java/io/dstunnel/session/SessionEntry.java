// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session;

import io.dstunnel.session.copy.Replication;
import io.vertx.core.Future;
import io.vertx.core.eventbus.MessageConsumer;

/**
 * A session of a session verticle and its address. In a cluster, also the ownership checks queued
 * for it (each request's check runs after the one before, so requests stay in order), whether
 * this node has let it go to another node, and the answers other nodes relayed for it. A removed
 * session's address answers a while longer.
 */
final class SessionEntry {
  final Session session;
  final MessageConsumer<TunnelCommand> consumer;
  Future<Boolean> owned = Future.succeededFuture(true);
  boolean forgotten;
  boolean removed;
  /** The answers of its reads that other nodes relayed (a cluster's; unused on a single node). */
  final RelayedAnswers relayed;

  SessionEntry(Session session, MessageConsumer<TunnelCommand> consumer, Replication replication) {
    this.session = session;
    this.consumer = consumer;
    this.relayed = new RelayedAnswers(this, replication);
  }

  Session session() {
    return session;
  }

  MessageConsumer<TunnelCommand> consumer() {
    return consumer;
  }
}
