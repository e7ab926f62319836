// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.tunnel;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import java.util.HashMap;
import java.util.Map;

/**
 * Watches this event loop's HTTP connections with one periodic sweep (no timer and no allocation
 * per request): a connection idle, with no request under way, for longer than the idle timeout is
 * closed — a held read is a request under way, so a long poll is never cut — and a request body
 * still incomplete after the request timeout is refused (408). HTTP/1.1 carries one request body
 * at a time, so one slot per connection is enough. Used on its event loop only.
 */
final class ConnectionWatch {

  /** What one connection is doing. */
  private static final class State {
    int busy;
    long idleSince;
    Runnable bodyTimeout;
    long bodySince;
  }

  private final long idleNanos;
  private final long bodyNanos;
  private final Map<HttpConnection, State> connections = new HashMap<>();

  ConnectionWatch(Vertx vertx, long idleTimeoutMs, long requestTimeoutMs) {
    this.idleNanos = idleTimeoutMs * 1_000_000;
    this.bodyNanos = requestTimeoutMs * 1_000_000;
    long shortest = Math.min(idleTimeoutMs > 0 ? idleTimeoutMs : Long.MAX_VALUE,
        requestTimeoutMs > 0 ? requestTimeoutMs : Long.MAX_VALUE);
    if (shortest != Long.MAX_VALUE) {
      vertx.setPeriodic(Math.max(10, Math.min(1000, shortest / 4)), t -> sweep(System.nanoTime()));
    }
  }

  long requestTimeoutMs() {
    return bodyNanos / 1_000_000;
  }

  /** A new connection: idle until its first request. */
  void opened(HttpConnection conn) {
    State state = new State();
    state.idleSince = System.nanoTime();
    connections.put(conn, state);
    conn.closeHandler(v -> connections.remove(conn));
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
      state.idleSince = System.nanoTime();
    }
  }

  /** A request body started arriving on {@code conn}; {@code onTimeout} refuses it if it is too slow. */
  void bodyStarted(HttpConnection conn, Runnable onTimeout) {
    State state = connections.get(conn);
    if (state != null && bodyNanos > 0) {
      state.bodyTimeout = onTimeout;
      state.bodySince = System.nanoTime();
    }
  }

  void bodyEnded(HttpConnection conn) {
    State state = connections.get(conn);
    if (state != null) {
      state.bodyTimeout = null;
    }
  }

  private void sweep(long now) {
    for (Map.Entry<HttpConnection, State> e : Map.copyOf(connections).entrySet()) {
      State s = e.getValue();
      if (s.bodyTimeout != null && now - s.bodySince >= bodyNanos) {
        Runnable timeout = s.bodyTimeout;
        s.bodyTimeout = null;
        timeout.run();
      } else if (idleNanos > 0 && s.busy == 0 && now - s.idleSince >= idleNanos) {
        e.getKey().close();
      }
    }
  }
}
