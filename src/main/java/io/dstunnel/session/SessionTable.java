// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session;

import io.dstunnel.session.copy.Replication;
import io.dstunnel.session.lane.SessionServices;
import io.dstunnel.session.message.TunnelCommand;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.stream.Stream;

/**
 * The sessions of one session verticle, by id: each registered at its own address, removed when
 * it ends (its address answers a while longer), expired when idle. Used on that verticle's event
 * loop only.
 */
final class SessionTable {

  /** How long the address of a removed session still answers (expired, or moved to another node). */
  private static final long REMOVED_ANSWERS_MS = 10_000;

  private final Vertx vertx;
  private final SessionServices services;
  private final SessionCounter counter;
  private final Replication replication;
  private final BiConsumer<SessionEntry, SessionRequest> dispatch;
  private final Map<String, SessionEntry> sessions = new HashMap<>();

  /** {@code dispatch}: where a request that reaches a session's address goes. */
  SessionTable(Vertx vertx, SessionServices services, SessionCounter counter, Replication replication,
               BiConsumer<SessionEntry, SessionRequest> dispatch) {
    this.vertx = vertx;
    this.services = services;
    this.counter = counter;
    this.replication = replication;
    this.dispatch = dispatch;
  }

  /** A new session {@code id} of {@code user} at its address (one taken back replaces its old entry). */
  SessionEntry register(String id, String user) {
    SessionEntry old = sessions.get(id);
    if (old != null && old.removed()) {
      old.consumer().unregister();  // a session taken back: one consumer per address
    }
    Session session = new Session(id, user, services, () -> remove(id));
    SessionEntry[] entry = {null};
    MessageConsumer<TunnelCommand> consumer = vertx.eventBus().localConsumer(Addresses.session(id),
        m -> dispatch.accept(entry[0], SessionRequest.of(m)));
    entry[0] = new SessionEntry(session, consumer, replication, services.context());
    sessions.put(id, entry[0]);
    return entry[0];
  }

  /** Session {@code id}'s entry, live or removed, or null. */
  SessionEntry get(String id) {
    return sessions.get(id);
  }

  /** Every entry, removed ones too (their addresses still answer). */
  List<SessionEntry> all() {
    return new ArrayList<>(sessions.values());
  }

  /** The sessions still open here (not those whose address only answers that they are gone). */
  Stream<SessionEntry> live() {
    return sessions.values().stream().filter(e -> !e.removed());
  }

  private void remove(String id) {
    SessionEntry e = sessions.get(id);
    if (e != null && !e.removed()) {
      counter.closed(e.session().owner());
      // The address answers a little longer (expired, or not here): a request already on its way
      // when a consumer unregisters would be dropped unanswered and time out.
      e.markRemoved();
      vertx.setTimer(REMOVED_ANSWERS_MS, t -> {
        if (sessions.remove(id, e)) {
          e.consumer().unregister();
        }
      });
      if (!e.forgotten()) {
        replication.ended(e.copy());
      }
    }
  }

  /** Expires the sessions idle longer than {@code idleTimeoutMs} with no read waiting. */
  void expireIdle(long idleTimeoutMs) {
    long now = System.nanoTime();
    long limit = TimeUnit.MILLISECONDS.toNanos(idleTimeoutMs);
    List<Session> idle = new ArrayList<>();
    for (SessionEntry e : live().toList()) {
      Session s = e.session();
      if (!s.hasWaitingReads() && now - s.lastActivity() > limit && s.state() != SessionState.OPENING) {
        idle.add(s);
      }
    }
    idle.forEach(s -> s.expire("idle"));
  }
}
