// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session;

import io.dstunnel.backend.BackendAddresses;
import io.dstunnel.backend.BackendConnector;
import io.dstunnel.backend.BackendPool;
import io.dstunnel.channels.ChannelDirectory;
import io.dstunnel.config.PoolConfig;
import io.dstunnel.config.SessionConfig;
import io.dstunnel.events.EventLog;
import io.dstunnel.session.copy.ReplicatedSession;
import io.dstunnel.session.copy.Replication;
import io.dstunnel.session.lane.AnswerBudget;
import io.dstunnel.session.lane.SessionServices;
import io.dstunnel.session.message.Adoption;
import io.dstunnel.session.message.SessionFailure;
import io.dstunnel.session.message.TunnelCommand;
import io.dstunnel.session.message.TunnelReply;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the sessions opened through it: takes opens at {@link Addresses#OPEN}, registers each new
 * session at its own address, and applies that session's requests in arrival order on this
 * instance's event loop ({@link SessionTable}). Also expires idle sessions, and moves them off leaving
 * backends ({@link Migrations}). Thin: the logic is in {@link Session}, and a cluster's in {@link ClusterGate}.
 */
public final class SessionVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(SessionVerticle.class);

  /** How long a read is held before the HTTP side is told to poll again (below the bus timeout). */
  public static final long READ_SLICE_MS = 20_000;

  /** How often a cluster node looks after its sessions' copies (see {@link Replication#maintain}). */
  private static final long MAINTAIN_MS = 1000;

  /** How often requests taken on this lane are checked against their deadlines (their timeouts are coarse by this). */
  private static final long LANE_CALLS_CHECK_MS = 1000;

  private final SessionConfig config;
  private final PoolConfig poolConfig;
  private final BackendPool pool;
  private final EventLog events;
  private final SessionCounter counter;
  private final AnswerBudget budget;
  private final int index;
  private SessionServices services;
  /** Every address this instance answers at (not its sessions'), unregistered together. */
  private final List<MessageConsumer<?>> consumers = new ArrayList<>();
  private SessionTable sessions;
  private final BackendConnector connector;
  private final SessionLanes lanes;
  private long sweepTimer = -1;
  private long migrationTimer = -1;
  private long maintainTimer = -1;
  /** Requests taken from this event loop's HTTP side without the event bus, waiting for answers. */
  private final LaneCalls calls = new LaneCalls();
  private long callsTimer = -1;

  private final Replication replication;
  private ClusterGate gate;
  private final ChannelDirectory channels;
  private final Migrations migrations;

  public SessionVerticle(int index, SessionConfig config, PoolConfig poolConfig, BackendPool pool, EventLog events,
                         SessionCounter counter, AnswerBudget budget, BackendConnector connector,
                         Replication replication, ChannelDirectory channels, SessionLanes lanes) {
    this.lanes = lanes;
    this.replication = replication;
    this.channels = channels;
    this.connector = connector;
    this.index = index;
    this.budget = budget;
    this.config = config;
    this.counter = counter;
    this.poolConfig = poolConfig;
    this.pool = pool;
    this.events = events;
    this.migrations = new Migrations(pool, config.instances());
  }

  @Override
  public Future<?> start() {
    services = new SessionServices(context, pool, connector, events, budget, config, poolConfig.answerTimeoutMs(),
        channels);
    sessions = new SessionTable(vertx, services, counter, replication, this::dispatch);
    gate = new ClusterGate(replication, context);
    EventBus bus = vertx.eventBus();
    consumers.add(bus.<TunnelCommand>localConsumer(Addresses.OPEN, this::open));
    consumers.add(bus.<TunnelCommand>localConsumer(Addresses.open(index), this::open));
    consumers.add(bus.localConsumer(BackendAddresses.POOL_CHANGED, msg -> migrations.poolChanged()));
    consumers.add(bus.localConsumer(Addresses.sessionList(index), msg -> {
      JsonArray list = new JsonArray();
      sessions.live().forEach(e -> list.add(SessionSnapshot.of(e.session())));
      msg.reply(list);
    }));
    consumers.add(bus.localConsumer(Addresses.sessionsOwed(index),
        msg -> msg.reply((int) sessions.live().filter(e -> e.session().owesTheClient()).count())));
    consumers.add(bus.<Adoption>localConsumer(Addresses.ADOPT, msg -> adopt(msg.body(), msg)));
    consumers.add(bus.<Boolean>localConsumer(Addresses.handOver(index), this::handOver));
    consumers.add(bus.<String>localConsumer(Addresses.MEMBER_LEFT, msg -> gate.memberLeft(msg.body(), sessions.live().toList())));
    long sweep = Math.max(50, Math.min(5_000, config.idleTimeoutMs() / 4));
    sweepTimer = vertx.setPeriodic(sweep, t -> sessions.expireIdle(config.idleTimeoutMs()));
    migrationTimer = vertx.setPeriodic(Migrations.TICK_MS,
        t -> migrations.tick(() -> sessions.live().map(SessionEntry::session).toList()));
    if (replication != Replication.NONE) {
      maintainTimer = vertx.setPeriodic(MAINTAIN_MS, t -> replication.maintain(
          sessions.live().filter(e -> !e.forgotten() && e.session().state() != SessionState.OPENING)
              .<ReplicatedSession>map(SessionEntry::copy).toList()));
    }
    callsTimer = vertx.setPeriodic(LANE_CALLS_CHECK_MS, t -> calls.expire(System.nanoTime()));
    return Future.all(consumers.stream().map(MessageConsumer::completion).toList())
        .onSuccess(v -> lanes.joined(index, this::takeHere));
  }

  @Override
  public Future<?> stop() {
    lanes.left(index);
    vertx.cancelTimer(sweepTimer);
    vertx.cancelTimer(migrationTimer);
    vertx.cancelTimer(maintainTimer);
    // Calls still waiting are answered if their sessions answer; their HTTP side stopped first.
    vertx.cancelTimer(callsTimer);
    List<Future<Void>> unregistered = consumers.stream().map(MessageConsumer::unregister).toList();
    for (SessionEntry e : sessions.all()) {
      if (replication == Replication.NONE) {
        e.session().expire("stopped");
      } else {
        gate.forget(e);  // a cluster node never ends a live session by leaving: its copies adopt it
      }
    }
    return Future.join(unregistered);
  }

  private void open(Message<TunnelCommand> msg) {
    TunnelCommand cmd = msg.body();
    TunnelReply refused = counter.tryOpen(cmd.user());
    if (refused != null) {
      msg.reply(refused);
      return;
    }
    SessionEntry e = sessions.register(SessionIds.next(), cmd.user());
    Session session = e.session();
    e.consumer().completion()
        .compose(v -> session.open(cmd.body()))
        .compose(reply -> reply.isFailure() ? Future.succeededFuture(reply)
            : replication.opened(e.copy(), cmd.body()).map(reply))
        .onSuccess(msg::reply)
        .onFailure(err -> {
          LOG.error("opening a session failed", err);
          session.close();
          msg.reply(TunnelReply.failed(SessionFailure.INTERNAL, "Internal error"));
        });
  }

  /**
   * A request from the HTTP side on this verticle's own event loop ({@link SessionLanes#call}):
   * queued on this verticle's context as a bus message would be, and served as one, without the
   * bus's request-reply machinery. Null when the session is not live here (gone, or moved to
   * another node: the bus and the cluster's routing find where it is).
   */
  private Future<TunnelReply> takeHere(TunnelCommand cmd, long timeoutMs) {
    SessionEntry e = sessions.get(cmd.sessionId());
    Context caller = Vertx.currentContext();
    if (e == null || e.removed() || e.forgotten() || caller == null) {
      return null;
    }
    SessionRequest req = timeoutMs < 0 ? SessionRequest.oneWay(cmd) : calls.add(cmd, caller, timeoutMs);
    context.runOnContext(v -> dispatch(e, req));
    return req instanceof LaneCalls.Call c ? c.answer() : Future.succeededFuture();
  }

  private void dispatch(SessionEntry e, SessionRequest req) {
    TunnelCommand cmd = req.command();
    Session session = e.session();
    if (e.removed()) {
      req.reply(e.forgotten() ? TunnelReply.failed(SessionFailure.NOT_HERE, null)
          : TunnelReply.failed(SessionFailure.EXPIRED, "Session expired"));
      return;
    }
    // Every command says who acts, wherever it comes from (this node's HTTP side, another node's
    // forward, an operator): one that says nobody, or another user, is refused alike.
    if (!cmd.mayAct(session.owner())) {
      req.reply(TunnelReply.failed(SessionFailure.NOT_OWNER, "Session belongs to another user"));
      return;
    }
    if (replication == Replication.NONE) {
      apply(session, req);
      return;
    }
    gate.dispatch(e, req, this::apply);
  }

  /** Takes over a session from its copy: replays its log to a backend, then makes new copies. */
  private void adopt(Adoption adoption, Message<Adoption> msg) {
    SessionEntry existing = sessions.get(adoption.sessionId());
    if (existing != null && !existing.forgotten() && !existing.removed()) {
      msg.reply(TunnelReply.accepted(adoption.sessionId(), 0));
      return;
    }
    counter.adopted(adoption.user());
    SessionEntry e = sessions.register(adoption.sessionId(), adoption.user());
    Future<TunnelReply> adopted = e.consumer().completion()
        .compose(v -> e.copy().adopt(adoption))
        .compose(reply -> reply.isFailure() ? Future.succeededFuture(reply)
            : replication.adopted(e.copy(), adoption).map(reply));
    // Requests that reach the session while it is being taken over wait for it to be ready.
    e.checkOwned(adopted.map(reply -> !reply.isFailure()).otherwise(false));
    adopted.onComplete(ar -> {
      if (ar.failed() || ar.result().isFailure()) {
        // Not taken over after all: its address says so (sent on to the cluster, which may try
        // again), not that the session expired.
        e.markForgotten();
        e.session().expire("not taken over");
      }
      msg.reply(ar.succeeded() ? ar.result() : TunnelReply.failed(SessionFailure.INTERNAL, String.valueOf(ar.cause())));
    });
  }

  /**
   * Starts handing every idle session over to a node holding its copy, and the busy ones too once
   * the message says the drain time is up; answers at once how many this verticle still owns (a
   * slow hand-over must not hold the leaving node's count up).
   */
  private void handOver(Message<Boolean> msg) {
    gate.handOver(sessions.live().toList(), Boolean.TRUE.equals(msg.body()));
    msg.reply((int) sessions.live().filter(e -> !e.forgotten()).count());
  }

  private void apply(Session session, SessionRequest req) {
    TunnelCommand cmd = req.command();
    switch (cmd.kind()) {
      case WRITE -> session.write(cmd.body()).onSuccess(req::reply);
      case READ -> read(session, cmd).onSuccess(req::reply);
      case CLOSE -> req.reply(session.close());
      case CANCEL_READ -> session.cancelRead(cmd.readId());
      case DELIVERED -> { }  // a single node relays nothing
      case UNREAD -> {
        if (!session.unread(cmd.body(), cmd.offset())) {
          LOG.warn("session {}: {} answer bytes could not be taken back after a failed HTTP answer",
              session.id(), cmd.body().length());
        }
      }
      default -> req.reply(TunnelReply.failed(SessionFailure.UNEXPECTED, "Unexpected request"));
    }
  }

  /** A read, held at most {@link #READ_SLICE_MS} whatever slice the request asks for. */
  static Future<TunnelReply> read(Session session, TunnelCommand cmd) {
    return session.read(cmd.count(), cmd.readId(), Math.max(1, Math.min(cmd.sliceMs(), READ_SLICE_MS)));
  }
}
