// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.backend;

import io.dstunnel.config.HealthConfig.CheckKind;
import io.dstunnel.config.HealthConfig;
import io.dstunnel.events.ProxyMetrics;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.ConnectOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Active health checks: each backend on its own timer (its {@code health} settings), a TCP connect,
 * a DBX filter query or an HTTP GET of its REST port (vertx-web-client), counted against rise and
 * fall by the pool. A recovered preferred backend
 * thus takes new sessions again (failback). Timers are laid anew when the config is reloaded.
 * Driven by the {@link BackendConnectorVerticle}, on its event loop.
 */
final class HealthChecker {

  private static final Buffer FILTER_QUERY = Buffer.buffer(new byte[] {5, 5, 5, 5, 5});
  private static final Buffer NO_FILTER = Buffer.buffer(new byte[] {6, 0, 0, 0, 0});

  private final Vertx vertx;
  private final NetClient client;
  private final WebClient web;
  private final BackendPool pool;
  private final ProxyMetrics metrics;
  private final Map<Backend, Long> timers = new HashMap<>();
  private final Map<Backend, Boolean> running = new HashMap<>();

  HealthChecker(Vertx vertx, NetClient client, BackendPool pool, ProxyMetrics metrics) {
    this.vertx = vertx;
    this.client = client;
    this.web = WebClient.create(vertx, new WebClientOptions().setKeepAlive(false).setUserAgentEnabled(false));
    this.pool = pool;
    this.metrics = metrics;
  }

  /** Checks every backend once, then on each one's interval. */
  Future<Void> start() {
    List<Future<Void>> first = new ArrayList<>();
    for (Backend b : pool.backends()) {
      first.add(check(b));
    }
    return Future.join(first).<Void>mapEmpty().otherwiseEmpty().onSuccess(v -> schedule());
  }

  void stop() {
    timers.values().forEach(vertx::cancelTimer);
    timers.clear();
    web.close();
  }

  /** (Re)lays one periodic check per backend: at start and after a reload. */
  void schedule() {
    timers.values().forEach(vertx::cancelTimer);
    timers.clear();
    for (Backend b : pool.backends()) {
      timers.put(b, vertx.setPeriodic(b.config().health().intervalMs(), id -> check(b)));
    }
  }

  /** Checks one backend; never fails (a failed check is a result). Skipped while one is running. */
  Future<Void> check(Backend b) {
    if (Boolean.TRUE.equals(running.get(b))) {
      return Future.succeededFuture();
    }
    running.put(b, true);
    HealthConfig h = b.config().health();
    Promise<Void> outcome = Promise.promise();
    long timer = vertx.setTimer(h.timeoutMs(), t -> outcome.tryFail("timed out after " + h.timeoutMs() + " ms"));
    Future<Void> run = h.kind() == CheckKind.HTTP
        ? web.get(b.config().httpPort(), b.host(), h.httpPath()).timeout(h.timeoutMs()).send()
            .compose(resp -> resp.statusCode() < 500 ? Future.<Void>succeededFuture()
                : Future.failedFuture("HTTP " + resp.statusCode() + " from the REST port"))
        : client.connect(new ConnectOptions().setHost(b.host()).setPort(b.port()).setTimeout(h.timeoutMs()))
            .compose(socket -> h.kind() == CheckKind.DBX ? filterQuery(socket, outcome) : socket.close());
    run.onComplete(ar -> {
      if (ar.succeeded()) {
        outcome.tryComplete();
      } else {
        outcome.tryFail(ar.cause());
      }
    });
    return outcome.future()
        .onComplete(ar -> {
          vertx.cancelTimer(timer);
          running.remove(b);
          metrics.healthCheck(b.name(), ar.succeeded());
          if (ar.succeeded()) {
            pool.success(b, "health check passed");
          } else {
            pool.failure(b, "health check failed: " + Failures.describe(ar.cause()));
          }
        })
        .otherwiseEmpty();
  }

  /** Sends the 5-byte filter query and expects {@code 06 00 00 00 00}. */
  private static Future<Void> filterQuery(NetSocket socket, Promise<Void> outcome) {
    Promise<Void> answered = Promise.promise();
    Buffer got = Buffer.buffer(5);
    socket.handler(chunk -> {
      got.appendBuffer(chunk);
      if (got.length() >= 5) {
        if (got.slice(0, 5).equals(NO_FILTER)) {
          answered.tryComplete();
        } else {
          answered.tryFail("unexpected answer to the filter query");
        }
      }
    });
    socket.closeHandler(v -> answered.tryFail("closed before answering the filter query"));
    socket.exceptionHandler(answered::tryFail);
    outcome.future().onFailure(err -> socket.close());
    socket.write(FILTER_QUERY);
    return answered.future().eventually(() -> socket.close());
  }
}
