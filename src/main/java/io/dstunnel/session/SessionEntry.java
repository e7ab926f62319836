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
