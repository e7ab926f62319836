package io.dstunnel.tunnel;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import java.util.HashMap;
import java.util.Map;

/**
 * Closes HTTP connections that stay idle, with no request under way, for longer than a timeout.
 * A held read is a request under way: a long poll is never cut. One instance per HTTP verticle
 * instance, used on its event loop only.
 */
final class ConnectionIdle {

  private final Vertx vertx;
  private final long timeoutMs;
  private final Map<HttpConnection, long[]> connections = new HashMap<>();

  ConnectionIdle(Vertx vertx, long timeoutMs) {
    this.vertx = vertx;
    this.timeoutMs = timeoutMs;
  }

  /** A new connection: idle until its first request. */
  void opened(HttpConnection conn) {
    if (timeoutMs <= 0) {
      return;
    }
    long[] state = {-1, 0}; // timer id, requests under way
    connections.put(conn, state);
    conn.closeHandler(v -> {
      vertx.cancelTimer(state[0]);
      connections.remove(conn);
    });
    arm(conn, state);
  }

  void requestStarted(HttpConnection conn) {
    long[] state = connections.get(conn);
    if (state != null) {
      state[1]++;
      vertx.cancelTimer(state[0]);
      state[0] = -1;
    }
  }

  void requestEnded(HttpConnection conn) {
    long[] state = connections.get(conn);
    if (state != null && --state[1] == 0) {
      arm(conn, state);
    }
  }

  private void arm(HttpConnection conn, long[] state) {
    state[0] = vertx.setTimer(timeoutMs, t -> {
      if (state[1] == 0) {
        conn.close();
      }
    });
  }
}
