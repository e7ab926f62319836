// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.backend;

import io.dstunnel.config.PoolConfig;
import io.dstunnel.events.ProxyMetrics;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;

/**
 * Owns the proxy's connections to its backends: the {@link NetClient} that sessions connect with
 * (handed out as a {@link BackendConnector}), and the health checks with a client of their own
 * (each with its own name in the connection metrics). {@code NetClient.connect} binds each socket
 * to the context that calls it, so a session's bytes flow on the session's own event loop with no
 * extra hop; this verticle only owns and closes what it created.
 */
public final class BackendConnectorVerticle extends VerticleBase {

  private final BackendPool pool;
  private final ProxyMetrics metrics;
  private NetClient sessions;
  private NetClient checks;
  private BackendConnector connector;
  private HealthChecker health;
  private MessageConsumer<String> changes;

  public BackendConnectorVerticle(BackendPool pool, ProxyMetrics metrics) {
    this.pool = pool;
    this.metrics = metrics;
  }

  @Override
  public Future<?> start() {
    PoolConfig config = pool.config();
    sessions = vertx.createNetClient(new NetClientOptions().setMetricsName("dstunnel-sessions")
        .setConnectTimeout(config.connectTimeoutMs()).setTcpNoDelay(true));
    checks = vertx.createNetClient(new NetClientOptions().setMetricsName("dstunnel-health-checks"));
    connector = new BackendConnector(sessions, pool);
    health = new HealthChecker(vertx, checks, pool, metrics);
    changes = vertx.eventBus().localConsumer(BackendAddresses.POOL_CHANGED, msg -> {
      if ("reload".equals(msg.body()) || "pruned".equals(msg.body())) {
        health.schedule();
      }
    });
    return changes.completion().compose(v -> health.start());
  }

  @Override
  public Future<?> stop() {
    health.stop();
    return Future.join(changes.unregister(), sessions.close(), checks.close());
  }

  /** How sessions connect to backends (usable from any context: sockets bind to the caller's). */
  public BackendConnector connector() {
    return connector;
  }
}
