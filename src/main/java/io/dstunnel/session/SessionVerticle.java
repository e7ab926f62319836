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

  private record Entry(Session session, MessageConsumer<TunnelCommand> consumer) { }

  public SessionVerticle(int index, SessionConfig config, PoolConfig poolConfig, BackendPool pool, EventLog events,
                         SessionCounter counter, AnswerBudget budget, BackendConnector connector) {
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
    openConsumer = vertx.eventBus().consumer(Addresses.OPEN, this::open);
    poolChanges = vertx.eventBus().consumer(Addresses.POOL_CHANGED, msg -> migrationsPending = true);
    listConsumer = vertx.eventBus().consumer(Addresses.sessionList(index), msg -> {
      io.vertx.core.json.JsonArray list = new io.vertx.core.json.JsonArray();
      sessions.values().forEach(e -> list.add(e.session().snapshot()));
      msg.reply(list);
    });
    owedConsumer = vertx.eventBus().consumer(Addresses.sessionsOwed(index),
        msg -> msg.reply((int) sessions.values().stream().filter(e -> e.session().owesTheClient()).count()));
    long sweep = Math.max(50, Math.min(5_000, config.idleTimeoutMs() / 4));
    sweepTimer = vertx.setPeriodic(sweep, t -> expireIdle());
    migrationTimer = vertx.setPeriodic(MIGRATION_TICK_MS, t -> migrate());
    return Future.all(openConsumer.completion(), poolChanges.completion(), listConsumer.completion(),
        owedConsumer.completion());
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(sweepTimer);
    vertx.cancelTimer(migrationTimer);
    poolChanges.unregister();
    listConsumer.unregister();
    owedConsumer.unregister();
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
    String id = SessionIds.next();
    Session session = new Session(id, cmd.user(), services, () -> remove(id));
    MessageConsumer<TunnelCommand> consumer = vertx.eventBus().consumer(Addresses.session(id),
        m -> dispatch(session, m));
    sessions.put(id, new Entry(session, consumer));
    consumer.completion()
        .compose(v -> session.open(cmd.body()))
        .onSuccess(msg::reply)
        .onFailure(err -> {
          LOG.error("opening a session failed", err);
          session.close();
          msg.reply(TunnelReply.failed(SessionFailure.INTERNAL, "Internal error"));
        });
  }

  private void dispatch(Session session, Message<TunnelCommand> msg) {
    TunnelCommand cmd = msg.body();
    if (cmd.user() != null && !cmd.user().equals(session.owner())) {
      msg.reply(TunnelReply.failed(SessionFailure.NOT_OWNER, "Session belongs to another user"));
      return;
    }
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
