package io.dstunnel.session;

import io.dstunnel.backend.Backend;
import io.dstunnel.backend.BackendConnector.Connection;
import io.dstunnel.framing.FramingException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * One client session: its state machine and the client's operations (open, write, read, close).
 * Every method runs on the event loop of the session verticle instance that owns it, as do the
 * callbacks of its {@link BackendLink}, so nothing here needs a lock.
 *
 * <p>Answers from the backend are accepted in whole messages ("dbx") up to the held-answer limit,
 * or byte by byte ("raw"), into the answer queue, which survives failovers. On a failover the
 * standby receives the whole log and the answers (or bytes) the client already has are dropped,
 * so the client sees every answer once, in order. Decisions about failing over are the
 * {@link FailoverPolicy}'s.
 */
public final class Session implements BackendLink.Listener {

  private final String id;
  private final String owner;
  private final SessionServices services;
  private final Runnable onEnd;
  private final HangWatch hangs;
  private final ReplayLog log;
  private final Readers readers;
  private final WriteGate gate;
  private final RequestCounter requests;
  private final AnswerStream stream;
  private final BackendLink link;
  private final FailoverPolicy policy;

  private SessionState state = SessionState.OPENING;
  private long lastActivity;
  private boolean migrating;
  private long budgetShare;

  Session(String id, String owner, SessionServices services, Runnable onEnd) {
    this.id = id;
    this.owner = owner;
    this.services = services;
    this.onEnd = onEnd;
    Vertx vertx = services.context().owner();
    var config = services.config();
    this.link = new BackendLink(this, config.backendWriteQueueBytes());
    this.hangs = new HangWatch(vertx, services.answerTimeoutMs(),
        () -> link.connected() && !link.paused() && state == SessionState.ACTIVE && owed(), this::hung);
    this.log = new ReplayLog(config.replayLimitBytes());
    this.requests = new RequestCounter(config.framing());
    this.stream = new AnswerStream(config.framing(), config.heldAnswerLimitBytes(), this::accept);
    this.readers = new Readers(vertx, this::afterTake);
    this.gate = new WriteGate(vertx, config.writeWaitMs());
    this.policy = new FailoverPolicy(config.maxFailovers());
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

  /** The backend the session is connected to, or null. */
  public Backend backend() {
    return link.connected() ? link.backend() : null;
  }

  // ---- client requests -------------------------------------------------------------------

  /** Opens the first backend connection and writes the client's first bytes. */
  public Future<TunnelReply> open(Buffer body) {
    record(body);
    List<Backend> order = services.pool().forNewSession();
    if (order.isEmpty() && services.pool().allFull()) {
      end("all backends full");
      return Future.succeededFuture(TunnelReply.error(503, "All backends are full"));
    }
    return services.connector().connect(order)
        .map(conn -> {
          if (state != SessionState.OPENING) {
            conn.socket().close();
            return TunnelReply.error(404, "Session expired");
          }
          attach(conn);
          state = state.to(SessionState.ACTIVE);
          releaseWriters();
          services.events().open(id, owner, conn.backend().name(), body.length());
          return TunnelReply.accepted(id, body.length());
        })
        .otherwise(err -> {
          services.events().error(id, null, "open: " + err.getMessage());
          end("no backend");
          return TunnelReply.error(502, "No backend available");
        });
  }

  /**
   * Appends the client's bytes to the stream, once the backend's bounded write queue has room:
   * until then the write waits untaken (see {@link WriteGate}).
   */
  public Future<TunnelReply> write(Buffer body) {
    touch();
    TunnelReply refused = refusal();
    if (refused != null) {
      return Future.succeededFuture(refused);
    }
    if (gate.busy() || link.writeQueueFull()) {
      return gate.hold(body);
    }
    return Future.succeededFuture(take(body));
  }

  private TunnelReply take(Buffer body) {
    TunnelReply refused = refusal();
    if (refused != null) {
      return refused;
    }
    boolean wasOwed = owed();
    record(body);
    services.events().write(id, body.length());
    if (state == SessionState.ACTIVE) {
      if (link.connected()) {
        link.write(body);
        if (log.overCap()) {
          abandonLog();
        }
        hangs.wrote(wasOwed);
      } else {
        failover(FailoverKind.IDLE_CLOSE, "backend closed while the session was idle");
      }
    }
    return TunnelReply.accepted(id, body.length());
  }

  private TunnelReply refusal() {
    return switch (state) {
      case FAILED -> TunnelReply.error(502, "Session could not be failed over");
      case CLOSED -> TunnelReply.error(404, "Session expired");
      default -> null;
    };
  }

  /** Hands out up to {@code max} answer bytes, now or when they arrive. */
  public Future<TunnelReply> read(int max, long readId, long sliceMs) {
    touch();
    if (readers.pending() > 0) {
      return Future.succeededFuture(readers.take(max));
    }
    TunnelReply refused = refusal();
    return refused != null ? Future.succeededFuture(refused) : readers.hold(max, readId, sliceMs);
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
    boolean back = state != SessionState.CLOSED && readers.unread(bytes, offset);
    account();
    return back;
  }

  /** Closes the session at the client's request. */
  public TunnelReply close() {
    end("client");
    return TunnelReply.accepted(id, 0);
  }

  /** Ends the session for {@code reason} ("idle", "drain", "admin", ...). */
  public void expire(String reason) {
    end(state == SessionState.FAILED ? "failed" : reason);
  }

  /**
   * Moves an idle session to {@code target} by replay, without a failover's urgency: only when
   * nothing is owed to the client, and only if that still holds once the new connection is up
   * (otherwise the new connection is dropped and the session stays). True if a move started.
   */
  public boolean migrate(Backend target, String reason) {
    if (state != SessionState.ACTIVE || !link.connected() || migrating || !requests.reliable() || owesAnything()
        || !log.replayable() || target == link.backend()) {
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
      if (state != SessionState.ACTIVE || !link.connected() || link.backend() != from || owesAnything()) {
        ar.result().socket().close();
        return;
      }
      long replayed = log.bytes();
      detach();
      attach(ar.result());
      releaseWriters();
      services.events().failover(id, from.name(), target.name(), FailoverKind.MIGRATE.key(), "migrate: " + reason,
          replayed, stream.alreadyGiven(), System.nanoTime() - started);
    });
    return true;
  }

  /** What the admin API shows of the session: never a byte of its log or answers. */
  public JsonObject snapshot() {
    Backend b = link.backend();
    return new JsonObject().put("id", id).put("user", owner).put("state", state.name())
        .put("backend", b == null ? null : b.name()).put("connected", link.connected())
        .put("failovers", policy.failovers()).put("replayable", log.replayable()).put("replayBytes", log.bytes())
        .put("idleMs", (System.nanoTime() - lastActivity) / 1_000_000).put("heldReads", readers.waitingReads())
        .put("pendingBytes", readers.pending() + stream.held())
        .put("owed", owesTheClient());
  }

  /** Whether the client is still owed answer bytes: a request in flight, or bytes not yet read. */
  public boolean owesTheClient() {
    return state != SessionState.FAILED && state != SessionState.CLOSED && owesAnything();
  }

  // ---- backend side ------------------------------------------------------------------------

  private void attach(Connection conn) {
    stream.restart();
    link.attach(conn, log.chunks());
    if (log.overCap()) {
      abandonLog();
    }
    hangs.replayed();
  }

  private void detach() {
    hangs.cancel();
    link.detach();
  }

  @Override
  public void onBytes(Buffer chunk) {
    hangs.progress();
    if (link.firstAnswer()) {
      // An answer, not a connect, proves that a backend serves: live traffic's health success.
      services.pool().success(link.backend(), "answered a session");
    }
    try {
      stream.feed(chunk, requests.startsWithFilterQuery());
    } catch (FramingException e) {
      services.events().error(id, link.backend().name(), e.getMessage());
      fail("Backend stream out of step");
    }
    account();
  }

  @Override
  public void onLost(String reason, boolean error) {
    Backend from = link.backend();
    services.events().error(id, from.name(), reason);
    boolean inFlight = inFlight();
    detach();
    if (state == SessionState.ACTIVE && FailoverPolicy.replaceNow(inFlight)) {
      services.pool().failure(from, "session lost its connection: " + reason);
      failover(error ? FailoverKind.ERROR : FailoverKind.CLOSED, reason);
    }
    releaseWriters();
  }

  @Override
  public void onDrain() {
    releaseWriters();
  }

  /** Waiting writes are taken while the socket has room (all of them once it is gone). */
  private void releaseWriters() {
    gate.release(link::writeQueueFull, this::take);
  }

  /** The backend took a request and never answered: it counts as failed, the session moves on. */
  private void hung() {
    String reason = "no answer within " + hangs.timeoutMs() + " ms";
    Backend from = link.backend();
    services.events().error(id, from.name(), reason);
    services.pool().failure(from, "hung: " + reason);
    detach();
    failover(FailoverKind.HUNG, reason);
    releaseWriters();
  }

  /**
   * Whether the client is owed an answer: a request without its answer ("dbx"), or, when requests
   * cannot be counted ("raw"), a write that no answer byte has followed.
   */
  private boolean owed() {
    return requests.reliable() ? requests.written() > stream.answersAccepted() : hangs.silentSinceLastWrite();
  }

  /** Owed an answer, a request half-written, or an answer half-received: a lost backend is replaced now. */
  private boolean inFlight() {
    return owed() || requests.reliable() && !requests.atBoundary() || stream.streaming() || stream.held() > 0;
  }

  /** In flight, or holding answer bytes the client has not read. */
  private boolean owesAnything() {
    return inFlight() || readers.pending() > 0 || state == SessionState.FAILING_OVER;
  }

  private void failover(FailoverKind kind, String reason) {
    String refused = policy.refusal(stream.streaming(), log.replayable());
    if (refused != null) {
      fail(refused);
      return;
    }
    state = state.to(SessionState.FAILING_OVER);
    Backend from = link.backend();
    long started = System.nanoTime();
    var pool = services.pool();
    services.connector().connect(from == null ? pool.forNewSession() : pool.forFailover(from))
        .onSuccess(conn -> {
          if (state != SessionState.FAILING_OVER) {
            conn.socket().close();
            return;
          }
          long replayed = log.bytes();
          long dropped = stream.alreadyGiven();
          attach(conn);
          state = state.to(SessionState.ACTIVE);
          releaseWriters();
          services.events().failover(id, from == null ? null : from.name(), conn.backend().name(), kind.key(), reason,
              replayed, dropped, System.nanoTime() - started);
        })
        .onFailure(err -> {
          if (state == SessionState.FAILING_OVER) {
            fail("No backend available");
          }
        });
  }

  // ---- bookkeeping -----------------------------------------------------------------------

  private void accept(Buffer bytes) {
    readers.add(bytes);
    if (!link.pausedForReader() && readers.pending() > services.config().pendingReadLimitBytes()) {
      link.pauseForReader(true);
    }
  }

  /** A client read {@code bytes}: a backend paused for it resumes once half its backlog is gone. */
  private void afterTake(int bytes) {
    services.events().read(id, bytes);
    if (link.pausedForReader() && readers.pending() <= services.config().pendingReadLimitBytes() / 2) {
      link.pauseForReader(false);
      hangs.resumed();
    }
    account();
  }

  /** Tells the proxy-wide budget what this session holds now; pauses the backend if it is spent. */
  private void account() {
    long now = state == SessionState.CLOSED ? 0 : readers.pending() + stream.held();
    AnswerBudget budget = services.budget();
    budget.adjust(now - budgetShare);
    budgetShare = now;
    if (now > 0 && budget.spent() && link.connected() && !link.paused()) {
      link.pauseForBudget(true);
      budget.whenRoom(services.context(), () -> {
        link.pauseForBudget(false);
        hangs.resumed();
      });
    }
  }

  private void record(Buffer body) {
    requests.record(body);
    log.append(body);
  }

  private void abandonLog() {
    services.events().replayCapExceeded(id, log.bytes());
    log.drop();
  }

  private void touch() {
    lastActivity = System.nanoTime();
  }

  private void fail(String message) {
    Backend b = link.backend();
    services.events().error(id, b == null ? null : b.name(), message);
    detach();
    log.drop();
    state = state.to(SessionState.FAILED);
    touch();
    readers.failAll(502, message);
    gate.refuseAll(TunnelReply.error(502, message));
    account();
  }

  private void end(String reason) {
    if (state == SessionState.CLOSED) {
      return;
    }
    boolean wasOpen = state != SessionState.OPENING;
    state = state.to(SessionState.CLOSED);
    detach();
    log.drop();
    readers.clear();
    stream.clear();
    readers.failAll(404, "Session expired");
    gate.refuseAll(TunnelReply.error(404, "Session expired"));
    account();
    if (wasOpen) {
      services.events().close(id, reason);
    }
    onEnd.run();
  }
}
