package io.dstunnel.session;

import io.dstunnel.backend.Backend;
import io.dstunnel.backend.BackendConnector;
import io.dstunnel.backend.BackendPool;
import io.dstunnel.config.BackendMode;
import io.dstunnel.config.PoolConfig;
import io.dstunnel.config.SessionConfig;
import io.dstunnel.events.EventLog;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the sessions opened through it: takes opens at {@link Addresses#OPEN}, registers each new
 * session at its own address, and applies that session's requests in arrival order on this
 * instance's event loop. Also expires idle sessions. Thin: the logic is in {@link Session}.
 */
public final class SessionVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(SessionVerticle.class);

  /** How long a read is held before the HTTP side is told to poll again (below the bus timeout). */
  public static final long READ_SLICE_MS = 20_000;

  /** How often pending migrations (migrate, disable, failback "migrate-idle") are looked at. */
  private static final long MIGRATION_TICK_MS = 100;

  private final SessionConfig config;
  private final PoolConfig poolConfig;
  private final BackendPool pool;
  private final EventLog events;
  private final SessionCounter counter;
  private final AnswerBudget budget;
  private final int index;
  private SessionServices services;
  private MessageConsumer<Void> owedConsumer;
  private MessageConsumer<Void> listConsumer;
  private final Map<String, Entry> sessions = new HashMap<>();
  private final BackendConnector connector;
  private MessageConsumer<TunnelCommand> openConsumer;
  private MessageConsumer<String> poolChanges;
  private long sweepTimer = -1;
  private long migrationTimer = -1;
  private long seenGeneration = -1;
  private boolean migrationsPending;

  private final Replication replication;
  private MessageConsumer<Adoption> adoptConsumer;
  private MessageConsumer<Void> handOverConsumer;

  /** A session of this verticle and its address; in a cluster, the ownership checks queued for it. */
  private static final class Entry {
    final Session session;
    final MessageConsumer<TunnelCommand> consumer;
    Future<Boolean> owned = Future.succeededFuture(true);
    boolean forgotten;

    Entry(Session session, MessageConsumer<TunnelCommand> consumer) {
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

  public SessionVerticle(int index, SessionConfig config, PoolConfig poolConfig, BackendPool pool, EventLog events,
                         SessionCounter counter, AnswerBudget budget, BackendConnector connector,
                         Replication replication) {
    this.replication = replication;
    this.connector = connector;
    this.index = index;
    this.budget = budget;
    this.config = config;
    this.counter = counter;
    this.poolConfig = poolConfig;
    this.pool = pool;
    this.events = events;
  }

  @Override
  public Future<?> start() {
    services = new SessionServices(context, pool, connector, events, budget, config, poolConfig.answerTimeoutMs());
    openConsumer = vertx.eventBus().localConsumer(Addresses.OPEN, this::open);
    poolChanges = vertx.eventBus().localConsumer(Addresses.POOL_CHANGED, msg -> migrationsPending = true);
    listConsumer = vertx.eventBus().localConsumer(Addresses.sessionList(index), msg -> {
      io.vertx.core.json.JsonArray list = new io.vertx.core.json.JsonArray();
      sessions.values().forEach(e -> list.add(e.session().snapshot()));
      msg.reply(list);
    });
    owedConsumer = vertx.eventBus().localConsumer(Addresses.sessionsOwed(index),
        msg -> msg.reply((int) sessions.values().stream().filter(e -> e.session().owesTheClient()).count()));
    long sweep = Math.max(50, Math.min(5_000, config.idleTimeoutMs() / 4));
    sweepTimer = vertx.setPeriodic(sweep, t -> expireIdle());
    migrationTimer = vertx.setPeriodic(MIGRATION_TICK_MS, t -> migrate());
    adoptConsumer = vertx.eventBus().localConsumer(Addresses.ADOPT, msg -> adopt(msg.body(), msg));
    handOverConsumer = vertx.eventBus().localConsumer(Addresses.handOver(index), msg -> handOver(msg));
    return Future.all(List.of(openConsumer.completion(), poolChanges.completion(), listConsumer.completion(),
        owedConsumer.completion(), adoptConsumer.completion(), handOverConsumer.completion()));
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(sweepTimer);
    vertx.cancelTimer(migrationTimer);
    poolChanges.unregister();
    listConsumer.unregister();
    owedConsumer.unregister();
    adoptConsumer.unregister();
    handOverConsumer.unregister();
    for (Entry e : new ArrayList<>(sessions.values())) {
      e.session().expire("stopped");
    }
    return openConsumer.unregister();
  }

  private void open(Message<TunnelCommand> msg) {
    TunnelCommand cmd = msg.body();
    TunnelReply refused = counter.tryOpen(cmd.user());
    if (refused != null) {
      msg.reply(refused);
      return;
    }
    Entry e = register(SessionIds.next(), cmd.user());
    Session session = e.session();
    e.consumer().completion()
        .compose(v -> session.open(cmd.body()))
        .compose(reply -> reply.isFailure() ? Future.succeededFuture(reply)
            : replication.opened(session, cmd.body()).map(reply))
        .onSuccess(msg::reply)
        .onFailure(err -> {
          LOG.error("opening a session failed", err);
          session.close();
          msg.reply(TunnelReply.failed(SessionFailure.INTERNAL, "Internal error"));
        });
  }

  private Entry register(String id, String user) {
    Session session = new Session(id, user, services, () -> remove(id));
    Entry[] entry = {null};
    MessageConsumer<TunnelCommand> consumer = vertx.eventBus().localConsumer(Addresses.session(id),
        m -> dispatch(entry[0], m));
    entry[0] = new Entry(session, consumer);
    sessions.put(id, entry[0]);
    return entry[0];
  }

  private void dispatch(Entry e, Message<TunnelCommand> msg) {
    TunnelCommand cmd = msg.body();
    Session session = e.session();
    if (cmd.user() != null && !cmd.user().equals(session.owner())) {
      msg.reply(TunnelReply.failed(SessionFailure.NOT_OWNER, "Session belongs to another user"));
      return;
    }
    if (replication == Replication.NONE) {
      apply(session, msg);
      return;
    }
    // In a cluster: serve only while this node owns the session (checked in arrival order).
    Future<Boolean> owned = e.owned.transform(ar -> replication.stillOwner(session));
    e.owned = owned;
    owned.onComplete(ar -> {
      if (e.forgotten || ar.failed() || !ar.result()) {
        forget(e);
        msg.reply(TunnelReply.failed(SessionFailure.NOT_HERE, null));
      } else if (cmd.kind() == TunnelCommand.Kind.WRITE && replication.applied(session, cmd.readId())) {
        msg.reply(TunnelReply.accepted(session.id(), cmd.body().length()));
      } else if (cmd.kind() == TunnelCommand.Kind.WRITE) {
        session.write(cmd.body()).onSuccess(reply -> {
          if (reply.kind() != TunnelReply.Kind.ACCEPTED) {
            msg.reply(reply);
            return;
          }
          replication.wrote(session, cmd.body(), cmd.readId()).onComplete(copied -> {
            if (copied.failed()) {
              forget(e);
              msg.reply(TunnelReply.failed(SessionFailure.NOT_HERE, null));
            } else {
              msg.reply(reply);
            }
          });
        });
      } else {
        apply(session, msg);
      }
    });
  }

  /** This node no longer owns the session (another adopted it, or it was handed over): it goes quietly. */
  private void forget(Entry e) {
    if (!e.forgotten) {
      e.forgotten = true;
      replication.forget(e.session());
      e.session().expire("moved to another node");
    }
  }

  /** Takes over a session from its copy: replays its log to a backend, then makes new copies. */
  private void adopt(Adoption adoption, Message<Adoption> msg) {
    Entry existing = sessions.get(adoption.sessionId());
    if (existing != null && !existing.forgotten) {
      msg.reply(TunnelReply.accepted(adoption.sessionId(), 0));
      return;
    }
    counter.adopted(adoption.user());
    Entry e = register(adoption.sessionId(), adoption.user());
    e.consumer().completion()
        .compose(v -> e.session().adopt(adoption))
        .compose(reply -> reply.isFailure() ? Future.succeededFuture(reply)
            : replication.adopted(e.session(), adoption).map(reply))
        .onComplete(ar -> msg.reply(ar.succeeded() ? ar.result()
            : TunnelReply.failed(SessionFailure.INTERNAL, String.valueOf(ar.cause()))));
  }

  /**
   * Hands every idle session over to a node holding its copy; answers how many this verticle still
   * owns. The hand-over takes its place in the session's queue of requests: those before it are
   * served here, those after it are sent on to the new owner, and it goes only if, at its turn,
   * nothing is owed (every answer accepted has been read).
   */
  private void handOver(Message<Void> msg) {
    List<Future<Boolean>> moves = new ArrayList<>();
    for (Entry e : new ArrayList<>(sessions.values())) {
      Session s = e.session();
      if (e.forgotten || s.state() != SessionState.ACTIVE || s.owesTheClient() || s.hasWaitingReads()) {
        continue;
      }
      Future<Boolean> stays = e.owned.transform(ar -> {
        if (e.forgotten || s.owesTheClient() || s.hasWaitingReads()) {
          return Future.succeededFuture(!e.forgotten);
        }
        return replication.handOver(s).map(v -> false).otherwise(true);
      });
      e.owned = stays;
      moves.add(stays.onSuccess(owned -> {
        if (!owned) {
          forget(e);
        }
      }));
    }
    Future.join(moves).onComplete(ar -> msg.reply(
        (int) sessions.values().stream().filter(e -> !e.forgotten).count()));
  }

  private void apply(Session session, Message<TunnelCommand> msg) {
    TunnelCommand cmd = msg.body();
    switch (cmd.kind()) {
      case WRITE -> session.write(cmd.body()).onSuccess(msg::reply);
      case READ -> session.read(cmd.count(), cmd.readId(), Math.max(1, Math.min(cmd.sliceMs(), READ_SLICE_MS))).onSuccess(msg::reply);
      case CLOSE -> msg.reply(session.close());
      case CANCEL_READ -> session.cancelRead(cmd.readId());
      case UNREAD -> {
        if (!session.unread(cmd.body(), cmd.offset())) {
          LOG.warn("session {}: {} answer bytes could not be taken back after a failed HTTP answer",
              session.id(), cmd.body().length());
        }
      }
      default -> msg.reply(TunnelReply.failed(SessionFailure.UNEXPECTED, "Unexpected request"));
    }
  }

  private void remove(String id) {
    Entry e = sessions.remove(id);
    if (e != null) {
      counter.closed(e.session().owner());
      e.consumer().unregister();
      if (!e.forgotten) {
        replication.ended(e.session());
      }
    }
  }

  /**
   * Moves idle sessions off backends being migrated or disabled, and back to recovered preferred
   * backends under failback "migrate-idle", at most the configured rate (shared by the instances).
   * Looks only after the pool changed, or while moves are still owed.
   */
  private void migrate() {
    pool.pruneRemoved();
    long gen = pool.generation();
    if (gen == seenGeneration && !migrationsPending) {
      return;
    }
    seenGeneration = gen;
    migrationsPending = false;
    int moves = Math.max(1, (int) (pool.config().migrateRatePerSecond() * MIGRATION_TICK_MS / 1000 / instances()));
    // Whether a backend's sessions must move is asked once per backend and tick; the balancing
    // order (which advances round-robin credit) only for the sessions actually moved.
    Map<Backend, Boolean> leaving = new HashMap<>();
    for (Entry e : sessions.values()) {
      Session s = e.session();
      Backend current = s.backend();
      if (current == null || !leaving.computeIfAbsent(current, b -> pool.migrationTarget(b) != null)) {
        continue;
      }
      if (moves == 0) {
        migrationsPending = true;  // over this tick's budget: look again next tick
        break;
      }
      Backend target = pool.migrationTarget(current);
      if (target == null || !s.migrate(target, current.evicting() || current.mode() != BackendMode.ACTIVE
          ? "backend " + current.mode().key() : "failback")) {
        migrationsPending = true;  // busy: look again next tick
        continue;
      }
      moves--;
    }
  }

  private int instances() {
    return Math.max(1, config.instances());
  }

  private void expireIdle() {
    long now = System.nanoTime();
    long limit = TimeUnit.MILLISECONDS.toNanos(config.idleTimeoutMs());
    List<Session> idle = new ArrayList<>();
    for (Entry e : sessions.values()) {
      Session s = e.session();
      if (!s.hasWaitingReads() && now - s.lastActivity() > limit && s.state() != SessionState.OPENING) {
        idle.add(s);
      }
    }
    idle.forEach(s -> s.expire("idle"));
  }
}
