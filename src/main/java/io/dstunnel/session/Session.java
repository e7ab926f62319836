package io.dstunnel.session;

import io.dstunnel.backend.Backend;
import io.dstunnel.backend.BackendConnector;
import io.dstunnel.backend.BackendConnector.Connection;
import io.dstunnel.backend.BackendPool;
import io.dstunnel.config.ProxyConfig.PoolConfig;
import io.dstunnel.config.ProxyConfig.SessionConfig;
import io.dstunnel.events.EventLog;
import io.dstunnel.framing.FramingException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;

/**
 * One client session: its state machine, replay log, answer accounting, held answers and waiting
 * reads. Every method runs on the event loop of the session verticle instance that owns it, as do
 * the handlers of its backend socket, so nothing here needs a lock.
 *
 * <p>Answers from the backend are accepted in whole messages ("dbx") up to the held-answer limit,
 * or byte by byte ("raw"), into the answer queue, which survives failovers. On a failover the
 * standby receives the whole log and its first {@code answersAccepted} answers (or
 * {@code bytesAccepted} bytes) are dropped, so the client sees every answer once, in order.
 */
public final class Session {

  private final String id;
  private final String owner;
  private final SessionConfig config;
  private final long answerTimeoutMs;
  private final Vertx vertx;
  private final BackendPool pool;
  private final BackendConnector connector;
  private final EventLog events;
  private final Runnable onEnd;

  private SessionState state = SessionState.OPENING;
  private final ReplayLog log;
  private final AnswerQueue answers = new AnswerQueue();
  private final ArrayDeque<PendingRead> reads = new ArrayDeque<>();

  private final RequestCounter requests;
  private final AnswerStream stream;

  private Backend backend;
  private NetSocket socket;
  private long bytesGiven;
  private boolean paused;
  private int failovers;
  private long lastActivity;
  private boolean migrating;
  private long answerTimer = -1;
  private long lastAnswerProgress;
  private long lastWrite;
  private long owedSince;

  /** A read waiting for bytes; its slice timer answers "no data yet" so the HTTP side polls again. */
  private record PendingRead(long readId, int max, Promise<TunnelReply> promise, long timer) { }

  public Session(String id, String owner, SessionConfig config, PoolConfig poolConfig, Vertx vertx,
                 BackendPool pool, BackendConnector connector, EventLog events, Runnable onEnd) {
    this.id = id;
    this.owner = owner;
    this.config = config;
    this.answerTimeoutMs = poolConfig.answerTimeoutMs();
    this.vertx = vertx;
    this.pool = pool;
    this.connector = connector;
    this.events = events;
    this.onEnd = onEnd;
    this.log = new ReplayLog(config.replayLimitBytes());
    this.requests = new RequestCounter(config.framing());
    this.stream = new AnswerStream(config.framing(), config.heldAnswerLimitBytes(), this::accept);
    this.lastActivity = System.nanoTime();
  }

  public String id() {
    return id;
  }

  public String owner() {
    return owner;
  }

  public SessionState state() {
    return state;
  }

  /** Nanotime of the last client request, for idle expiry. */
  public long lastActivity() {
    return lastActivity;
  }

  /** Whether a read is held, which keeps the session from expiring. */
  public boolean hasWaitingReads() {
    return !reads.isEmpty();
  }

  // ---- client requests -------------------------------------------------------------------

  /** Opens the first backend connection and writes the client's first bytes. */
  public Future<TunnelReply> open(Buffer body) {
    record(body);
    List<Backend> order = pool.forNewSession();
    if (order.isEmpty() && pool.allFull()) {
      end(SessionState.CLOSED, "all backends full");
      return Future.succeededFuture(TunnelReply.error(503, "All backends are full"));
    }
    return connector.connect(order)
        .map(conn -> {
          if (state != SessionState.OPENING) {
            conn.socket().close();
            return TunnelReply.error(404, "Session expired");
          }
          attach(conn);
          state = state.to(SessionState.ACTIVE);
          events.open(id, owner, conn.backend().name(), body.length());
          return TunnelReply.accepted(id, body.length());
        })
        .otherwise(err -> {
          events.error(id, null, "open: " + err.getMessage());
          end(SessionState.CLOSED, "no backend");
          return TunnelReply.error(502, "No backend available");
        });
  }

  /** Appends the client's bytes to the stream. */
  public TunnelReply write(Buffer body) {
    touch();
    if (state == SessionState.FAILED) {
      return TunnelReply.error(502, "Session could not be failed over");
    }
    if (state == SessionState.CLOSED) {
      return TunnelReply.error(404, "Session expired");
    }
    boolean wasOwed = owed();
    record(body);
    if (!wasOwed) {
      owedSince = System.nanoTime();
    }
    events.write(id, body.length());
    if (state == SessionState.ACTIVE) {
      if (socket != null) {
        lastWrite = System.nanoTime();
        socket.write(body);
        if (log.overCap()) {
          abandonLog();
        }
        armAnswerTimer();
      } else {
        failover("backend closed while the session was idle");
      }
    }
    return TunnelReply.accepted(id, body.length());
  }

  /** Hands out up to {@code max} answer bytes, now or when they arrive. */
  public Future<TunnelReply> read(int max, long readId, long sliceMs) {
    touch();
    if (!answers.isEmpty()) {
      return Future.succeededFuture(give(max));
    }
    if (state == SessionState.FAILED) {
      return Future.succeededFuture(TunnelReply.error(502, "Session could not be failed over"));
    }
    if (state == SessionState.CLOSED) {
      return Future.succeededFuture(TunnelReply.error(404, "Session expired"));
    }
    Promise<TunnelReply> promise = Promise.promise();
    long timer = vertx.setTimer(sliceMs, t -> {
      if (reads.removeIf(r -> r.promise == promise)) {
        promise.tryComplete(TunnelReply.noDataYet());
      }
    });
    reads.add(new PendingRead(readId, max, promise, timer));
    return promise.future();
  }

  /** Forgets a held read whose HTTP request is gone. */
  public void cancelRead(long readId) {
    for (Iterator<PendingRead> it = reads.iterator(); it.hasNext(); ) {
      PendingRead r = it.next();
      if (r.readId == readId) {
        it.remove();
        vertx.cancelTimer(r.timer);
        r.promise.tryComplete(TunnelReply.noDataYet());
      }
    }
  }

  /**
   * Takes back bytes that a read was given but could not send to its client, if nothing was
   * handed out after them; otherwise they are lost and the caller is told so.
   */
  public boolean unread(Buffer bytes, long offset) {
    if (state == SessionState.CLOSED || offset + bytes.length() != bytesGiven) {
      return false;
    }
    answers.pushBack(bytes);
    bytesGiven -= bytes.length();
    serveReads();
    return true;
  }

  /** Closes the session at the client's request. */
  public TunnelReply close() {
    end(SessionState.CLOSED, "client");
    return TunnelReply.accepted(id, 0);
  }

  /** Ends the session because it was idle too long. */
  public void expire() {
    end(SessionState.CLOSED, state == SessionState.FAILED ? "failed" : "idle");
  }

  // ---- backend side ------------------------------------------------------------------------

  private void attach(Connection conn) {
    backend = conn.backend();
    socket = conn.socket();
    backend.attached();
    NetSocket s = socket;
    s.handler(chunk -> {
      if (s == socket) {
        onAnswerBytes(chunk);
      }
    });
    s.exceptionHandler(err -> lost(s, err.getMessage() == null ? err.toString() : err.getMessage()));
    s.closeHandler(v -> lost(s, "connection closed"));
    stream.restart();
    paused = false;
    for (Buffer chunk : log.chunks()) {
      s.write(chunk);
    }
    if (log.overCap()) {
      abandonLog();
    }
    lastWrite = System.nanoTime();
    owedSince = lastWrite;
    lastAnswerProgress = lastWrite - 1;
    armAnswerTimer();
  }

  // ---- hung backends and migration ---------------------------------------------------------

  /**
   * With an answer timeout, watches a session that is owed an answer: if no answer byte arrives
   * for that long, the backend is taken for hung and the session fails over.
   */
  private void armAnswerTimer() {
    armAnswerTimer(answerTimeoutMs);
  }

  private void armAnswerTimer(long delayMs) {
    if (answerTimeoutMs <= 0 || answerTimer >= 0 || socket == null) {
      return;
    }
    answerTimer = vertx.setTimer(Math.max(1, delayMs), t -> {
      answerTimer = -1;
      checkAnswer();
    });
  }

  /** Hung if owed an answer and no answer byte came for the timeout since the request. */
  private void checkAnswer() {
    if (socket == null || state != SessionState.ACTIVE || !owed()) {
      return;
    }
    long waitedMs = (System.nanoTime() - Math.max(lastAnswerProgress, owedSince)) / 1_000_000;
    if (waitedMs < answerTimeoutMs) {
      armAnswerTimer(answerTimeoutMs - waitedMs);
      return;
    }
    String reason = "no answer within " + answerTimeoutMs + " ms";
    events.error(id, backend.name(), reason);
    pool.failure(backend, "hung: " + reason);
    detach();
    failover(reason);
  }

  /**
   * Whether the client is owed an answer: a request without its answer ("dbx"), or, when requests
   * cannot be counted, a write with no answer byte since.
   */
  private boolean owed() {
    if (!requests.reliable()) {
      return lastAnswerProgress - lastWrite < 0;
    }
    return requests.written() > stream.answersAccepted();
  }

  /**
   * Moves an idle session to {@code target} by replay, without a failover's urgency: only when
   * nothing is owed to the client, and only if that still holds once the new connection is up
   * (otherwise the new connection is dropped and the session stays). True if a move started.
   */
  public boolean migrate(Backend target, String reason) {
    if (state != SessionState.ACTIVE || socket == null || migrating || !nothingInFlight() || !log.replayable()
        || target == backend) {
      return false;
    }
    migrating = true;
    Backend from = backend;
    long started = System.nanoTime();
    connector.connect(java.util.List.of(target)).onComplete(ar -> {
      migrating = false;
      if (ar.failed()) {
        return;
      }
      Connection conn = ar.result();
      if (state != SessionState.ACTIVE || socket == null || backend != from || !nothingInFlight()) {
        conn.socket().close();
        return;
      }
      long replayed = log.bytes();
      detach();
      attach(conn);
      events.failover(id, from.name(), target.name(), "migrate", "migrate: " + reason, replayed, stream.alreadyGiven(),
          System.nanoTime() - started);
    });
    return true;
  }

  /** What the admin API shows of the session: never a byte of its log or answers. */
  public io.vertx.core.json.JsonObject snapshot() {
    return new io.vertx.core.json.JsonObject().put("id", id).put("user", owner).put("state", state.name())
        .put("backend", backend == null ? null : backend.name()).put("connected", socket != null)
        .put("failovers", failovers).put("replayable", log.replayable()).put("replayBytes", log.bytes())
        .put("idleMs", (System.nanoTime() - lastActivity) / 1_000_000).put("heldReads", reads.size())
        .put("pendingBytes", answers.size() + stream.held())
        .put("owed", owesTheClient());
  }

  /** Whether the client is still owed answer bytes: a request in flight, or bytes not yet read. */
  private boolean owesTheClient() {
    if (state == SessionState.FAILED || state == SessionState.CLOSED) {
      return false;
    }
    return !answers.isEmpty() || stream.held() > 0 || state == SessionState.FAILING_OVER
        || (socket != null || state == SessionState.OPENING) && owed();
  }

  /** The backend the session is attached to, or null. */
  public Backend backend() {
    return socket == null ? null : backend;
  }

  private void detach() {
    if (answerTimer >= 0) {
      vertx.cancelTimer(answerTimer);
      answerTimer = -1;
    }
    if (socket != null) {
      NetSocket s = socket;
      socket = null;
      backend.detached();
      s.close();
    }
  }

  private void onAnswerBytes(Buffer chunk) {
    lastAnswerProgress = System.nanoTime();
    try {
      stream.feed(chunk, requests.startsWithFilterQuery());
    } catch (FramingException e) {
      events.error(id, backend.name(), e.getMessage());
      fail("Backend stream out of step");
    }
  }

  private void accept(Buffer bytes) {
    answers.add(bytes);
    serveReads();
    if (!paused && socket != null && answers.size() > config.pendingReadLimitBytes()) {
      paused = true;
      socket.pause();
    }
  }

  private void lost(NetSocket s, String reason) {
    if (s != socket) {
      return;
    }
    events.error(id, backend.name(), reason);
    detach();
    if (state != SessionState.ACTIVE) {
      return;
    }
    if (nothingInFlight()) {
      // Nothing owed to the client: fail over on its next write (spreads the replays of many
      // idle sessions over time, and lets a server close after a "disconnect" without a retry).
      return;
    }
    pool.failure(backend, "session lost its connection: " + reason);
    failover(reason);
  }

  private boolean nothingInFlight() {
    return requests.reliable() && requests.atBoundary() && requests.written() == stream.answersAccepted()
        && !stream.streaming() && stream.held() == 0;
  }

  private void failover(String reason) {
    failover(reason.startsWith("no answer") ? "hung" : reason.contains("idle") ? "idle-close"
        : reason.equals("connection closed") ? "closed" : "error", reason);
  }

  private void failover(String kind, String reason) {
    if (stream.streaming()) {
      fail("Answer interrupted by a backend failure");
      return;
    }
    if (!log.replayable()) {
      fail("Session over its replay limit could not be failed over");
      return;
    }
    if (failovers >= config.maxFailovers()) {
      fail("Session failed over " + failovers + " times");
      return;
    }
    failovers++;
    state = state.to(SessionState.FAILING_OVER);
    Backend from = backend;
    long started = System.nanoTime();
    connector.connect(from == null ? pool.forNewSession() : pool.forFailover(from))
        .onSuccess(conn -> {
          if (state != SessionState.FAILING_OVER) {
            conn.socket().close();
            return;
          }
          long replayed = log.bytes();
          long dropped = stream.alreadyGiven();
          attach(conn);
          state = state.to(SessionState.ACTIVE);
          events.failover(id, from == null ? null : from.name(), conn.backend().name(), kind, reason, replayed,
              dropped, System.nanoTime() - started);
        })
        .onFailure(err -> {
          if (state == SessionState.FAILING_OVER) {
            fail("No backend available");
          }
        });
  }

  // ---- bookkeeping -----------------------------------------------------------------------

  private void record(Buffer body) {
    requests.record(body);
    log.append(body);
  }

  private void abandonLog() {
    events.replayCapExceeded(id, log.bytes());
    log.abandon();
  }

  private TunnelReply give(int max) {
    Buffer out = answers.take(max);
    long offset = bytesGiven;
    bytesGiven += out.length();
    events.read(id, out.length());
    if (paused && socket != null && answers.size() <= config.pendingReadLimitBytes() / 2) {
      paused = false;
      socket.resume();
    }
    return TunnelReply.data(out, offset);
  }

  private void serveReads() {
    while (!answers.isEmpty() && !reads.isEmpty()) {
      PendingRead r = reads.poll();
      vertx.cancelTimer(r.timer);
      r.promise.tryComplete(give(r.max));
    }
  }

  private void touch() {
    lastActivity = System.nanoTime();
  }

  private void fail(String message) {
    events.error(id, backend == null ? null : backend.name(), message);
    detach();
    log.clear();
    state = state.to(SessionState.FAILED);
    touch();
    failReads(502, message);
  }

  private void failReads(int status, String message) {
    while (!reads.isEmpty()) {
      PendingRead r = reads.poll();
      vertx.cancelTimer(r.timer);
      r.promise.tryComplete(TunnelReply.error(status, message));
    }
  }

  private void end(SessionState closed, String reason) {
    if (state == SessionState.CLOSED) {
      return;
    }
    boolean wasOpen = state != SessionState.OPENING;
    state = state.to(closed);
    detach();
    log.clear();
    answers.clear();
    stream.clear();
    failReads(404, "Session expired");
    if (wasOpen) {
      events.close(id, reason);
    }
    onEnd.run();
  }

  /** For the tests and the admin view: which backend serves the session now (null if none). */
  public String backendName() {
    return socket == null ? null : backend.name();
  }
}
