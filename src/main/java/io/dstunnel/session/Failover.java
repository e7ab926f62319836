// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session;

import io.dstunnel.backend.Backend;
import io.dstunnel.backend.BackendPool;
import io.dstunnel.session.lane.SessionServices;
import io.dstunnel.session.link.BackendLink;
import io.dstunnel.session.message.Adoption;
import io.dstunnel.session.message.Progress;
import io.dstunnel.session.message.SessionFailure;
import io.dstunnel.session.message.TunnelReply;
import io.vertx.core.Future;
import java.util.List;

/**
 * How a session reaches backends: its first connection, a failover (its backend was lost or hung) and a
 * migration (an unhurried move of an idle session: an operator's migrate or disable, failback
 * "migrate-idle"), and the decisions around them — whether a lost connection is replaced now or on
 * the client's next write, and whether a failover may happen at all.
 */
final class Failover {

  private final Session session;
  private final SessionServices services;
  private int failovers;
  private boolean migrating;

  Failover(Session session, SessionServices services) {
    this.session = session;
    this.services = services;
  }

  /**
   * Whether a connection lost while the session has something {@code inFlight} is replaced at
   * once. When nothing is (an idle session, or a server closing after the client's "disconnect")
   * the session moves on the client's next write instead: no stampede of replays when a server
   * with many idle sessions dies, and no replay loop after a normal close.
   */
  static boolean replaceNow(boolean inFlight) {
    return inFlight;
  }

  int count() {
    return failovers;
  }

  /** The session's first connection, to which its first bytes (already logged) are replayed. */
  Future<TunnelReply> open(String owner, int bytes) {
    return connectFirst(owner, bytes, false);
  }

  /**
   * The first connection of a session taken over from its copy (cluster mode): its whole log is
   * replayed and the answers the client already has are dropped, as in a failover.
   */
  Future<TunnelReply> adopt(Adoption adoption) {
    session.calls().knowHandles(adoption.handles());
    List<Long> excluded = adoption.excluded();
    for (int i = 0; i + 1 < excluded.size(); i += 2) {
      session.log().exclude(excluded.get(i), excluded.get(i + 1));
    }
    adoption.log().forEach(session::record);
    Progress given = adoption.given();
    if (adoption.unlessNothingOwed() != null && given.partBytes() == 0 && !session.calls().channelOpen()
        && session.calls().owedAfter(given.answers()) == 0) {
      // The client reads though every answer it wrote for was handed out: the last never reached it.
      given = adoption.unlessNothingOwed();
    }
    session.answers().assumeGiven(given);
    session.calls().assumeAnswered(given.answers());
    return connectFirst(session.owner(), 0, true);
  }

  private Future<TunnelReply> connectFirst(String owner, int bytes, boolean adopted) {
    long started = System.nanoTime();
    List<Backend> order = services.pool().forNewSession();
    if (order.isEmpty() && services.pool().allFull()) {
      session.end("all backends full");
      return Future.succeededFuture(TunnelReply.failed(SessionFailure.BACKENDS_FULL, "All backends are full"));
    }
    return services.connector().connect(order)
        .map(conn -> {
          if (session.state() != SessionState.OPENING) {
            conn.socket().close();
            return TunnelReply.failed(SessionFailure.EXPIRED, "Session expired");
          }
          session.attach(conn);
          session.becomes(SessionState.ACTIVE);
          if (adopted) {
            services.events().failover(session.id(), null, conn.backend().name(), FailoverKind.ADOPTED.key(),
                "taken over from its copy", session.log().bytes(), session.answers().stream().alreadyGiven(),
                System.nanoTime() - started);
          } else {
            services.events().open(session.id(), owner, conn.backend().name(), bytes);
          }
          return TunnelReply.accepted(session.id(), bytes);
        })
        .otherwise(err -> {
          services.events().error(session.id(), null, "open: " + err.getMessage());
          session.end("no backend");
          return TunnelReply.failed(SessionFailure.NO_BACKEND, "No backend available");
        });
  }

  /** The backend connection is gone; {@code inFlight}: the client was owed something on it. */
  void lost(String reason, boolean error, boolean inFlight) {
    Backend from = session.link().backend();
    services.events().error(session.id(), from.name(), reason);
    session.detach();
    if (session.state() == SessionState.ACTIVE && replaceNow(inFlight)) {
      services.pool().failure(from, "session lost its connection: " + reason);
      start(error ? FailoverKind.ERROR : FailoverKind.CLOSED, reason);
    }
    session.writes().release();
  }

  /** The backend took a request and never answered: it counts as failed, the session moves on. */
  void hung() {
    String reason = "no answer within " + services.answerTimeoutMs() + " ms";
    Backend from = session.link().backend();
    services.events().error(session.id(), from.name(), reason);
    services.pool().failure(from, "hung: " + reason);
    session.detach();
    start(FailoverKind.HUNG, reason);
    session.writes().release();
  }

  /** Why the session cannot fail over, or null if it may. */
  private String refusal() {
    if (session.answers().stream().streaming()) {
      return "Answer interrupted by a backend failure";
    }
    if (!session.log().replayable()) {
      return "Session over its replay limit could not be failed over";
    }
    if (failovers >= services.config().maxFailovers()) {
      return "Session failed over " + failovers + " times";
    }
    return null;
  }

  /** Connects to another backend and replays the log there; the session fails if none takes it. */
  void start(FailoverKind kind, String reason) {
    String refused = refusal();
    if (refused != null) {
      fail(refused);
      return;
    }
    failovers++;
    session.becomes(SessionState.FAILING_OVER);
    Backend from = session.link().backend();
    long started = System.nanoTime();
    BackendPool pool = services.pool();
    services.connector().connect(from == null ? pool.forNewSession() : pool.forFailover(from))
        .onSuccess(conn -> {
          if (session.state() != SessionState.FAILING_OVER) {
            conn.socket().close();
            return;
          }
          // The log can have grown past its cap while the connect was under way.
          if (!session.log().replayable() || session.log().overCap()) {
            conn.socket().close();
            fail("Session over its replay limit could not be failed over");
            return;
          }
          long replayed = session.log().bytes();
          long dropped = session.answers().stream().alreadyGiven();
          session.attach(conn);
          session.becomes(SessionState.ACTIVE);
          session.writes().release();
          services.events().failover(session.id(), from == null ? null : from.name(), conn.backend().name(),
              kind.key(), reason, replayed, dropped, System.nanoTime() - started);
        })
        .onFailure(err -> {
          if (session.state() == SessionState.FAILING_OVER) {
            fail("No backend available");
          }
        });
  }

  /**
   * Moves an idle session to {@code target} by replay: only when nothing is owed to the client,
   * and only if that still holds once the new connection is up (otherwise the new connection is
   * dropped and the session stays). True if a move started.
   */
  boolean migrate(Backend target, String reason) {
    BackendLink link = session.link();
    if (session.state() != SessionState.ACTIVE || !link.connected() || migrating || !session.debts().counted()
        || session.owesAnything() || !session.log().replayable() || target == link.backend()) {
      return false;
    }
    migrating = true;
    Backend from = link.backend();
    long started = System.nanoTime();
    services.connector().connect(List.of(target)).onComplete(ar -> {
      migrating = false;
      if (ar.failed()) {
        return;
      }
      if (session.state() != SessionState.ACTIVE || !link.connected() || link.backend() != from
          || session.owesAnything()) {
        ar.result().socket().close();
        return;
      }
      long replayed = session.log().bytes();
      session.detach();
      session.attach(ar.result());
      session.writes().release();
      services.events().failover(session.id(), from.name(), target.name(), FailoverKind.MIGRATE.key(),
          "migrate: " + reason, replayed, session.answers().stream().alreadyGiven(), System.nanoTime() - started);
    });
    return true;
  }

  /** The session cannot go on: its reads and waiting writes learn why, and nothing is replayed again. */
  void fail(String message) {
    Backend b = session.link().backend();
    services.events().error(session.id(), b == null ? null : b.name(), message);
    session.detach();
    session.log().drop();
    session.becomes(SessionState.FAILED);
    session.touch();
    session.answers().failReads(SessionFailure.LOST_BACKEND, message);
    session.writes().refuseAll(TunnelReply.failed(SessionFailure.LOST_BACKEND, message));
  }
}
