// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.admin;

import io.dstunnel.MalformedRequests;
import io.dstunnel.auth.Authenticator;
import io.dstunnel.auth.ClientAddress;
import io.dstunnel.auth.LoginThrottle;
import io.dstunnel.auth.Logins;
import io.dstunnel.backend.BackendPool;
import io.dstunnel.cluster.ClusterNode;
import io.dstunnel.config.ProxyConfig;
import io.dstunnel.config.Role;
import io.dstunnel.events.EventLog;
import io.dstunnel.events.ProxyMetrics;
import io.dstunnel.rest.RestService;
import io.dstunnel.session.SessionCounter;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.StaticHandler;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin listener on its own port: {@code /health/live} and {@code /health/ready} for probes
 * (no credentials), and behind HTTP Basic with the proxy's users ({@link AdminGuard}: roles,
 * cross-site refusal), {@code /metrics} (Prometheus; role metrics or admin), the admin API under
 * {@code /admin/} (with the status page's {@code /admin/history} and {@code /admin/nodes}) and the
 * status page at {@code /admin/} (role admin).
 */
public final class AdminVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(AdminVerticle.class);

  private final ProxyConfig config;
  private final BackendPool pool;
  private final EventLog events;
  private final ProxyMetrics metrics;
  private final SessionCounter sessions;
  private final LoginThrottle throttle;
  private final ClusterNode cluster;
  private final RestService rest;
  private final int tunnelPort;
  private HttpServer server;
  private long sampling = -1;

  /** {@code tunnelPort}: the port the tunnel listens on (the node panel shows it). */
  public AdminVerticle(ProxyConfig config, BackendPool pool, EventLog events, ProxyMetrics metrics,
                       SessionCounter sessions, LoginThrottle throttle, ClusterNode cluster,
                       RestService rest, int tunnelPort) {
    this.rest = rest;
    this.tunnelPort = tunnelPort;
    this.cluster = cluster;
    this.throttle = throttle;
    this.sessions = sessions;
    this.config = config;
    this.pool = pool;
    this.events = events;
    this.metrics = metrics;
  }

  @Override
  public Future<?> start() {
    if (config.auth().enabled() && !config.auth().anyHolds(Role.ADMIN)) {
      LOG.warn("no user in auth.users has the admin role: the admin API and status page are closed to everyone"
          + " (give an operator \"roles\": [\"admin\"]; users without roles may use the tunnel only)");
    }
    Router router = Router.router(vertx);
    HealthChecks live = HealthChecks.create(vertx).register("process", p -> p.complete(Status.OK()));
    HealthChecks ready = HealthChecks.create(vertx)
        .register("tunnel-listening", p -> p.complete(sessions.draining()
            ? Status.KO(new JsonObject().put("reason", "draining")) : Status.OK()))
        .register("backend-up", p -> p.complete(pool.backends().stream().anyMatch(b -> b.isUp())
            ? Status.OK() : Status.KO(new JsonObject().put("reason", "no backend is up"))));
    router.get("/health/live").handler(HealthCheckHandler.createWithHealthChecks(live));
    router.get("/health/ready").handler(HealthCheckHandler.createWithHealthChecks(ready));

    AdminGuard guard = new AdminGuard(new Logins(new Authenticator(vertx, config.auth()), throttle, "admin",
        new ClientAddress(config.admin().fronts())), events);
    router.route().handler(AdminGuard.hostCheck(config.admin().allowedHosts()));
    router.route().handler(guard::authenticate);
    router.route().handler(guard::sameOrigin);
    router.route("/metrics").handler(guard.require(Role.METRICS, Role.ADMIN));
    router.route("/admin*").handler(guard.require(Role.ADMIN));
    if (metrics.registry() instanceof PrometheusMeterRegistry prometheus) {
      router.get("/metrics").handler(PrometheusScrapingHandler.create(prometheus));
    }
    new AdminApi(vertx, config, pool, events, cluster, guard, rest).mount(router);
    // The status page's charts and node panel.
    StatusHistory history = new StatusHistory(metrics, sessions);
    history.sample();
    sampling = vertx.setPeriodic(StatusHistory.INTERVAL_MS, t -> history.sample());
    NodeStatus nodes = new NodeStatus(vertx, config, sessions, cluster, tunnelPort);
    router.get("/admin/history").handler(ctx -> AdminApi.json(ctx, 200, history.toJson()));
    router.get("/admin/nodes").handler(ctx -> nodes.all().onComplete(ar -> {
      if (ar.succeeded()) {
        AdminApi.json(ctx, 200, ar.result());
      } else {
        AdminApi.error(ctx, 503, "The nodes could not be asked: " + ar.cause().getMessage());
      }
    }));
    // Vert.x Web matches "/admin" with and without the trailing slash.
    router.get("/admin").handler(ctx -> {
      if (ctx.request().path().endsWith("/")) {
        ctx.reroute("/admin/index.html");
      } else {
        ctx.redirect("/admin/");
      }
    });
    router.get("/admin/*").handler(StaticHandler.create("admin").setCachingEnabled(false));
    // No catch-all route: the router itself tells an unknown path (404) from a known path asked
    // with another method (405, with Allow), and both answer JSON.
    router.errorHandler(404, ctx -> AdminApi.error(ctx, 404, "Not found"));
    router.errorHandler(405, ctx -> AdminApi.error(ctx, 405, "Method not allowed"));

    server = vertx.createHttpServer(new HttpServerOptions().setHost(config.admin().host()).setPort(config.admin().port())
        .setUseProxyProtocol(config.admin().fronts().proxyProtocol()));
    return Future.all(nodes.listen(), server.requestHandler(MalformedRequests.guard(router)).listen());
  }

  @Override
  public Future<?> stop() {
    if (sampling >= 0) {
      vertx.cancelTimer(sampling);
    }
    return server.close();
  }

  public int actualPort() {
    return server.actualPort();
  }
}
