package io.dstunnel.session;

import io.dstunnel.backend.Backend;
import io.dstunnel.backend.BackendConnector;
import io.dstunnel.backend.BackendConnector.Connection;
import io.dstunnel.backend.BackendPool;
import io.dstunnel.config.PoolConfig;
import io.dstunnel.config.SessionConfig;
import io.dstunnel.events.EventLog;
import io.dstunnel.framing.FramingException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;
import java.util.ArrayDeque;
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
  private final HangWatch hangs;
  private final Vertx vertx;
  private final BackendPool pool;
  private final BackendConnector connector;
  private final EventLog events;
  private final Runnable onEnd;

  private SessionState state = SessionState.OPENING;
  private final ReplayLog log;
  private final Readers readers;
  private final ArrayDeque<Runnable> writersWaiting = new ArrayDeque<>();

  private final RequestCounter requests;
  private final AnswerStream stream;

  private Backend backend;
  private NetSocket socket;
  private boolean paused;
  private int failovers;
  private long lastActivity;
  private boolean migrating;

  public Session(String id, String owner, SessionConfig config, PoolConfig poolConfig, Vertx vertx,
                 BackendPool pool, BackendConnector connector, EventLog events, Runnable onEnd) {
    this.id = id;
    this.owner = owner;
    this.config = config;
    this.hangs = new HangWatch(vertx, poolConfig.answerTimeoutMs(),
        () -> socket != null && state == SessionState.ACTIVE && owed(), this::hung);
    this.vertx = vertx;
    this.pool = pool;
    this.connector = connector;
    this.events = events;
    this.onEnd = onEnd;
    this.log = new ReplayLog(config.replayLimitBytes());
    this.requests = new RequestCounter(config.framing());
    this.stream = new AnswerStream(config.framing(), config.heldAnswerLimitBytes(), this::accept);
    this.readers = new Readers(vertx, this::afterTake);
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
    return readers.waitingReads() > 0;
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

  /**
   * Appends the client's bytes to the stream. The answer waits while the backend socket's write
   * queue is full: a client writing faster than its backend reads is slowed, not buffered for.
   */
  public Future<TunnelReply> write(Buffer body) {
    touch();
    if (state == SessionState.FAILED) {
      return Future.succeededFuture(TunnelReply.error(502, "Session could not be failed over"));
    }
    if (state == SessionState.CLOSED) {
      return Future.succeededFuture(TunnelReply.error(404, "Session expired"));
    }
    boolean wasOwed = owed();
    record(body);
    events.write(id, body.length());
    if (state == SessionState.ACTIVE) {
      if (socket != null) {
        socket.write(body);
        if (log.overCap()) {
          abandonLog();
        }
        hangs.wrote(wasOwed);
      } else {
        failover("backend closed while the session was idle");
      }
    }
    TunnelReply accepted = TunnelReply.accepted(id, body.length());
    NetSocket s = socket;
    if (s == null || !s.writeQueueFull()) {
      return Future.succeededFuture(accepted);
    }
    Promise<TunnelReply> drained = Promise.promise();
    if (writersWaiting.isEmpty()) {
      s.drainHandler(v -> releaseWriters());
    }
    writersWaiting.add(() -> drained.tryComplete(accepted));
    return drained.future();
  }

  /**
   * Answers the writes held back by a full socket: it drained, or it is gone (the bytes are in the
   * log, and a failover replays them; or the session ended, which the client learns next).
   */
  private void releaseWriters() {
    while (!writersWaiting.isEmpty()) {
      writersWaiting.poll().run();
    }
  }

  /** Hands out up to {@code max} answer bytes, now or when they arrive. */
  public Future<TunnelReply> read(int max, long readId, long sliceMs) {
    touch();
    if (readers.pending() > 0) {
      return Future.succeededFuture(readers.take(max));
    }
    if (state == SessionState.FAILED) {
      return Future.succeededFuture(TunnelReply.error(502, "Session could not be failed over"));
    }
    if (state == SessionState.CLOSED) {
      return Future.succeededFuture(TunnelReply.error(404, "Session expired"));
    }
    return readers.hold(max, readId, sliceMs);
  }

  /** Forgets a held read whose HTTP request is gone. */
  public void cancelRead(long readId) {
    readers.cancel(readId);
  }

  /**
   * Takes back bytes that a read was given but could not send to its client, if nothing was
   * handed out after them; otherwise they are lost and the caller is told so.
   */
  public boolean unread(Buffer bytes, long offset) {
    return state != SessionState.CLOSED && readers.unread(bytes, offset);
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
    hangs.replayed();
  }

  // ---- hung backends and migration ---------------------------------------------------------

  /** The backend took a request and never answered: it counts as failed, the session moves on. */
  private void hung() {
    String reason = "no answer within " + hangs.timeoutMs() + " ms";
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
      return hangs.silentSinceLastWrite();
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
        .put("idleMs", (System.nanoTime() - lastActivity) / 1_000_000).put("heldReads", readers.waitingReads())
        .put("pendingBytes", readers.pending() + stream.held())
        .put("owed", owesTheClient());
  }

  /** Whether the client is still owed answer bytes: a request in flight, or bytes not yet read. */
  private boolean owesTheClient() {
    if (state == SessionState.FAILED || state == SessionState.CLOSED) {
      return false;
    }
    return readers.pending() > 0 || stream.held() > 0 || state == SessionState.FAILING_OVER
        || (socket != null || state == SessionState.OPENING) && owed();
  }

  /** The backend the session is attached to, or null. */
  public Backend backend() {
    return socket == null ? null : backend;
  }

  private void detach() {
    hangs.cancel();
    if (socket != null) {
      NetSocket s = socket;
      socket = null;
      backend.detached();
      s.close();
    }
    releaseWriters();
  }

  private void onAnswerBytes(Buffer chunk) {
    hangs.progress();
    try {
      stream.feed(chunk, requests.startsWithFilterQuery());
    } catch (FramingException e) {
      events.error(id, backend.name(), e.getMessage());
      fail("Backend stream out of step");
    }
  }

  private void accept(Buffer bytes) {
    readers.add(bytes);
    if (!paused && socket != null && readers.pending() > config.pendingReadLimitBytes()) {
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
    log.drop();
  }

  /** A client read {@code bytes}: a backend paused for it resumes once half its backlog is gone. */
  private void afterTake(int bytes) {
    events.read(id, bytes);
    if (paused && socket != null && readers.pending() <= config.pendingReadLimitBytes() / 2) {
      paused = false;
      socket.resume();
    }
  }

  private void touch() {
    lastActivity = System.nanoTime();
  }

  private void fail(String message) {
    events.error(id, backend == null ? null : backend.name(), message);
    detach();
    log.drop();
    state = state.to(SessionState.FAILED);
    touch();
    readers.failAll(502, message);
  }

  private void end(SessionState closed, String reason) {
    if (state == SessionState.CLOSED) {
      return;
    }
    boolean wasOpen = state != SessionState.OPENING;
    state = state.to(closed);
    detach();
    log.drop();
    readers.clear();
    stream.clear();
    readers.failAll(404, "Session expired");
    if (wasOpen) {
      events.close(id, reason);
    }
    onEnd.run();
  }

}
