// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.backend;

import io.vertx.core.Future;
import io.vertx.core.net.ConnectOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Queue;

/**
 * Opens a session's TCP connection: an ordered queue of candidates, the first that connects wins,
 * each that fails is marked down and the next is taken; an empty queue fails with
 * {@link NoBackendException}. Uses the caller's event loop, so the socket's handlers run where
 * the session's state lives.
 */
public final class BackendConnector {

  private final NetClient client;
  private final BackendPool pool;

  public BackendConnector(NetClient client, BackendPool pool) {
    this.client = client;
    this.pool = pool;
  }

  /** A live connection to a backend. */
  public record Connection(Backend backend, NetSocket socket) { }

  /** Connects to the first of {@code candidates} that accepts. */
  public Future<Connection> connect(List<Backend> candidates) {
    return next(new ArrayDeque<>(candidates), null);
  }

  private Future<Connection> next(Queue<Backend> queue, Throwable last) {
    Backend b = queue.poll();
    if (b == null) {
      return Future.failedFuture(new NoBackendException(last));
    }
    // The timeout is read at each connect, so a reload of pool.connectTimeoutMs applies at once.
    return client.connect(new ConnectOptions().setHost(b.host()).setPort(b.port())
            .setTimeout(pool.config().connectTimeoutMs()))
        // A connect proves only that the port is open, not that the server serves: it is no
        // health success (a server that accepts and never answers would stay up for ever).
        .map(socket -> new Connection(b, socket))
        .recover(err -> {
          pool.failure(b, "connect failed: " + Failures.describe(err));
          return next(queue, err);
        });
  }

  /** No candidate accepted a connection. */
  public static final class NoBackendException extends RuntimeException {
    public NoBackendException(Throwable cause) {
      super("No backend available", cause, false, false);
    }
  }
}
