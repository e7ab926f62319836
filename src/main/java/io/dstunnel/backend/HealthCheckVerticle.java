package io.dstunnel.backend;

import io.dstunnel.config.ProxyConfig.HealthConfig;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import java.util.ArrayList;
import java.util.List;

/**
 * Active health check: every interval, a TCP connect to each backend marks it up or down, so a
 * recovered preferred backend takes new sessions again (failback). A check still running when
 * the next is due is not started twice.
 */
public final class HealthCheckVerticle extends VerticleBase {

  private final BackendPool pool;
  private final HealthConfig config;
  private NetClient client;
  private long timer = -1;
  private boolean running;

  public HealthCheckVerticle(BackendPool pool, HealthConfig config) {
    this.pool = pool;
    this.config = config;
  }

  @Override
  public Future<?> start() {
    client = vertx.createNetClient(new NetClientOptions().setConnectTimeout(config.timeoutMs()));
    return checkAll().onComplete(v -> timer = vertx.setPeriodic(config.intervalMs(), id -> checkAll()));
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timer);
    return client.close();
  }

  /** Checks every backend once; always succeeds (a failed check is a result, not an error). */
  Future<Void> checkAll() {
    if (running) {
      return Future.succeededFuture();
    }
    running = true;
    List<Future<Void>> checks = new ArrayList<>();
    for (Backend b : pool.backends()) {
      checks.add(check(b));
    }
    return Future.join(checks).<Void>mapEmpty().otherwiseEmpty().onComplete(v -> running = false);
  }

  private Future<Void> check(Backend b) {
    return client.connect(b.port(), b.host())
        .compose(socket -> {
          pool.mark(b, BackendState.UP, "health check passed");
          return socket.close();
        })
        .recover(err -> {
          pool.mark(b, BackendState.DOWN, "health check failed: " + err.getMessage());
          return Future.succeededFuture();
        });
  }
}
