// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session;

import io.dstunnel.backend.Backend;
import io.dstunnel.backend.BackendConnector.Connection;
import io.dstunnel.framing.FramingException;
import io.dstunnel.session.answer.Answers;
import io.dstunnel.session.call.Calls;
import io.dstunnel.session.call.RequestCounter;
import io.dstunnel.session.lane.SessionServices;
import io.dstunnel.session.link.BackendLink;
import io.dstunnel.session.link.HangWatch;
import io.dstunnel.session.message.Progress;
import io.dstunnel.session.message.SessionFailure;
import io.dstunnel.session.message.TunnelReply;
import io.dstunnel.session.write.ReplayLog;
import io.dstunnel.session.write.Writes;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;

/**
 * One client session: its state machine and the client's operations (open, write, read, close).
 * Every method runs on the event loop of the session verticle instance that owns it, as do the
 * callbacks of its {@link BackendLink}, so nothing here needs a lock.
 *
 * <p>The parts: the replay log of every byte the client wrote, the {@link BackendLink} to the
 * current backend, the {@link Answers} on their way to the client, the {@link Writes} that wait
 * while the backend does not read, the {@link HangWatch}, and the {@link Failover} that moves the
 * session to another backend by replay, so the client sees every answer once, in order.
 */
final class Session implements BackendLink.Listener {

  private final String id;
  private final String owner;
  private final SessionServices services;
  private final Runnable onEnd;
  private final HangWatch hangs;
  private final ReplayLog log;
  private final Writes writes;
  private final RequestCounter requests;
  private final BackendLink link;
  private final Answers answers;
  private final Failover failover;
  private final Debts debts;
  private final Calls calls;

  private SessionState state = SessionState.OPENING;
  private long lastActivity;

  Session(String id, String owner, SessionServices services, Runnable onEnd) {
    this.id = id;
    this.owner = owner;
    this.services = services;
    this.onEnd = onEnd;
    Vertx vertx = services.context().owner();
    var config = services.config();
    this.link = new BackendLink(this, config.backendWriteQueueBytes());
    this.failover = new Failover(this, services);
    this.hangs = new HangWatch(vertx, services.answerTimeoutMs(), this::awaitingAnswer, failover::hung);
    this.log = new ReplayLog(config.replayLimitBytes());
    this.requests = new RequestCounter(config.framing());
    // With "raw" framing no message is ever seen: the calls stay empty and hand answers straight on.
    this.calls = new Calls(id, services, log, () -> state == SessionState.ACTIVE && link.connected());
    requests.listen(calls);
    this.answers = new Answers(id, services, link, hangs, calls);
    this.debts = new Debts(requests, answers, hangs, calls);
    this.writes = new Writes(vertx, config.writeWaitMs(), link::writeQueueFull, this::take);
    this.lastActivity = System.nanoTime();
  }

  String id() {
    return id;
  }

  String owner() {
    return owner;
  }

  SessionState state() {
    return state;
  }

  /** Nanotime of the last client request, for idle expiry. */
  long lastActivity() {
    return lastActivity;
  }

  /** Whether a read is held, which keeps the session from expiring. */
  boolean hasWaitingReads() {
    return answers.waitingReads() > 0;
  }

  /** The backend the session is connected to, or null. */
  Backend backend() {
    return link.connected() ? link.backend() : null;
  }

  // ---- client requests -------------------------------------------------------------------

  /** Opens the first backend connection and writes the client's first bytes. */
  Future<TunnelReply> open(Buffer body) {
    record(body);
    return failover.open(owner, body.length());
  }

  /**
   * Appends the client's bytes to the stream, once the backend's bounded write queue has room:
   * until then the write waits untaken (see {@link Writes}).
   */
  Future<TunnelReply> write(Buffer body) {
    touch();
    TunnelReply refused = refusal();
    return refused != null ? Future.succeededFuture(refused) : writes.write(body);
  }

  /** Logs {@code body} and writes it to the backend (or starts the failover that will replay it). */
  TunnelReply take(Buffer body) {
    TunnelReply refused = refusal();
    if (refused != null) {
      return refused;
    }
    boolean wasOwed = debts.answerOwed();
    record(body);
    services.events().write(id, body.length());
    if (state == SessionState.ACTIVE) {
      if (link.connected()) {
        link.write(body);
        hangs.wrote(wasOwed);
      } else {
        failover.start(FailoverKind.IDLE_CLOSE, "backend closed while the session was idle");
      }
    }
    // Past its cap the log is dropped for good, also while a failover is connecting (which then
    // finds nothing to replay and ends the session).
    if (log.overCap()) {
      abandonLog();
    }
    return TunnelReply.accepted(id, body.length());
  }

  private TunnelReply refusal() {
    return switch (state) {
      case FAILED -> TunnelReply.failed(SessionFailure.LOST_BACKEND, "Session could not be failed over");
      case CLOSED -> TunnelReply.failed(SessionFailure.EXPIRED, "Session expired");
      default -> null;
    };
  }

  /** Hands out up to {@code max} answer bytes, now or when they arrive. */
  Future<TunnelReply> read(int max, long readId, long sliceMs) {
    touch();
    return answers.read(max, readId, sliceMs, refusal());
  }

  /** Forgets a held read whose HTTP request is gone. */
  void cancelRead(long readId) {
    answers.cancelRead(readId);
  }

  /**
   * Takes back bytes that a read was given but could not send to its client, if nothing was
   * handed out after them; otherwise they are lost and the caller is told so.
   */
  boolean unread(Buffer bytes, long offset) {
    return answers.unread(bytes, offset);
  }

  /** How far the client has got with every answer byte handed out so far. */
  Progress progress() {
    return answers.progress();
  }

  /** What the client has once it has the first {@code offset} bytes of the answer stream (a read's start or end). */
  Progress progressAt(long offset) {
    return answers.progressAt(offset);
  }

  /** Closes the session at the client's request. */
  TunnelReply close() {
    end("client");
    return TunnelReply.accepted(id, 0);
  }

  /** Ends the session for {@code reason} ("idle", "stopped", ...). */
  void expire(String reason) {
    end(state == SessionState.FAILED ? "failed" : reason);
  }

  /** Moves an idle session to {@code target} by replay (see {@link Failover#migrate}). */
  boolean migrate(Backend target, String reason) {
    return failover.migrate(target, reason);
  }

  /** Whether the client is still owed answer bytes: a request in flight, or bytes not yet read. */
  boolean owesTheClient() {
    return state != SessionState.FAILED && state != SessionState.CLOSED && owesAnything();
  }

  // ---- backend side ------------------------------------------------------------------------

  @Override
  public void onBytes(Buffer chunk) {
    hangs.progress();
    if (link.firstAnswer()) {
      // An answer, not a connect, proves that a backend serves: live traffic's health success.
      services.pool().success(link.backend(), "answered a session");
    }
    try {
      answers.feed(chunk, requests.startsWithFilterQuery());
    } catch (FramingException e) {
      services.events().error(id, link.backend().name(), e.getMessage());
      failover.fail("Backend stream out of step");
    }
  }

  @Override
  public void onLost(String reason, boolean error) {
    failover.lost(reason, error, debts.inFlight());
  }

  @Override
  public void onDrain() {
    writes.release();
  }

  /** Connected, reading, and owed an answer: the backend's silence counts against it. */
  private boolean awaitingAnswer() {
    return link.connected() && !link.paused() && state == SessionState.ACTIVE && debts.answerOwed();
  }

  // ---- for Failover ------------------------------------------------------------------------

  /** Owed an answer in flight, or holding answer bytes the client has not read. */
  boolean owesAnything() {
    return debts.anything() || state == SessionState.FAILING_OVER;
  }

  Debts debts() {
    return debts;
  }

  Calls calls() {
    return calls;
  }

  Failover failover() {
    return failover;
  }

  BackendLink link() {
    return link;
  }

  ReplayLog log() {
    return log;
  }

  Answers answers() {
    return answers;
  }

  void becomes(SessionState next) {
    state = state.to(next);
  }

  /** Takes over {@code conn}: the log is replayed to it and what the client has is dropped. */
  void attach(Connection conn) {
    long replayedAnswers = calls.restart(conn.backend());
    answers.restart(requests.reliable() ? replayedAnswers : answers.stream().answersAccepted());
    link.attach(conn, log.chunks());
    calls.replayed();
    if (log.overCap()) {
      abandonLog();
    }
    hangs.replayed();
  }

  void detach() {
    hangs.cancel();
    calls.detached();
    link.detach();
  }

  Writes writes() {
    return writes;
  }

  // ---- bookkeeping -----------------------------------------------------------------------

  void record(Buffer body) {
    requests.record(body);
    log.append(body);
  }

  private void abandonLog() {
    services.events().replayCapExceeded(id, log.bytes());
    log.drop();
  }

  void touch() {
    lastActivity = System.nanoTime();
  }

  void end(String reason) {
    if (state == SessionState.CLOSED) {
      return;
    }
    boolean wasOpen = state != SessionState.OPENING;
    becomes(SessionState.CLOSED);
    detach();
    log.drop();
    answers.close();
    writes.refuseAll(TunnelReply.failed(SessionFailure.EXPIRED, "Session expired"));
    if (wasOpen) {
      services.events().close(id, reason);
    }
    onEnd.run();
  }
}
