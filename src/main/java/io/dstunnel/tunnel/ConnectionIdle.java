package io.dstunnel.tunnel;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import java.util.HashMap;
import java.util.Map;

/**
 * Closes HTTP connections that stay idle, with no request under way, for longer than a timeout.
 * A held read is a request under way: a long poll is never cut. Costs no timer per request: a
 * connection going idle is queued on {@link Deadlines}, and checked again when its turn comes.
 * One instance per HTTP verticle instance, used on its event loop only.
 */
final class ConnectionIdle {

  /** Requests under way, and when the connection last became idle. */
  private static final class State {
    int busy;
    long idleSince;
  }

  private final long timeoutNanos;
  private final Deadlines deadlines;
  private final Map<HttpConnection, State> connections = new HashMap<>();

  ConnectionIdle(Vertx vertx, long timeoutMs) {
    this.timeoutNanos = timeoutMs * 1_000_000;
    this.deadlines = new Deadlines(vertx, timeoutMs);
  }

  /** A new connection: idle until its first request. */
  void opened(HttpConnection conn) {
    if (!deadlines.enabled()) {
      return;
    }
    State state = new State();
    connections.put(conn, state);
    conn.closeHandler(v -> connections.remove(conn));
    idle(conn, state);
  }

  void requestStarted(HttpConnection conn) {
    State state = connections.get(conn);
    if (state != null) {
      state.busy++;
    }
  }

  void requestEnded(HttpConnection conn) {
    State state = connections.get(conn);
    if (state != null && --state.busy == 0) {
      idle(conn, state);
    }
  }

  private void idle(HttpConnection conn, State state) {
    state.idleSince = System.nanoTime();
    long since = state.idleSince;
    deadlines.add(() -> {
      // Still idle since that moment? Otherwise a later deadline covers it.
      if (state.busy == 0 && state.idleSince == since && connections.containsKey(conn)) {
        conn.close();
      }
    });
  }
}
