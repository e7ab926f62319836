// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session;

import io.vertx.core.Future;
import io.vertx.core.eventbus.MessageConsumer;

/**
 * A session of a session verticle and its address. In a cluster, also the ownership checks queued
 * for it (each request's check runs after the one before, so requests stay in order), and whether
 * this node has let it go to another node. A removed session's address answers a while longer.
 */
final class SessionEntry {
  final Session session;
  final MessageConsumer<TunnelCommand> consumer;
  Future<Boolean> owned = Future.succeededFuture(true);
  boolean forgotten;
  boolean removed;
  /** The last read's answer if another node relayed it (its node may die before passing it on). */
  ClusterGate.Relayed lastRelayed;
  /** The read whose answer bytes are being handed out (its copies told): done once it is recorded. */
  Future<Void> handingOut = Future.succeededFuture();
  /** Bytes of that answer taken back when its node died, not yet read again (0: none). */
  int retaken;

  SessionEntry(Session session, MessageConsumer<TunnelCommand> consumer) {
    this.session = session;
    this.consumer = consumer;
  }

  Session session() {
    return session;
  }

  MessageConsumer<TunnelCommand> consumer() {
    return consumer;
  }
}
