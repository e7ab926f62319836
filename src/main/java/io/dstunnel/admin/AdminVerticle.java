package io.dstunnel.admin;

import io.dstunnel.auth.Authenticator;
import io.dstunnel.auth.LoginRefused;
import io.dstunnel.auth.LoginThrottle;
import io.dstunnel.auth.Logins;
import io.dstunnel.backend.BackendPool;
import io.dstunnel.config.ProxyConfig;
import io.dstunnel.events.EventLog;
import io.dstunnel.events.ProxyMetrics;
import io.dstunnel.session.SessionCounter;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;

/**
 * The admin listener on its own port: {@code /health/live} and {@code /health/ready} for probes
 * (no credentials), and behind HTTP Basic with the proxy's users, {@code /metrics} (Prometheus),
 * the admin API under {@code /admin/} and the status page at {@code /admin/}.
 */
public final class AdminVerticle extends VerticleBase {

  private final ProxyConfig config;
  private final BackendPool pool;
  private final EventLog events;
  private final ProxyMetrics metrics;
  private final SessionCounter sessions;
  private final LoginThrottle throttle;
  private final io.dstunnel.cluster.ClusterNode cluster;
  private HttpServer server;

  public AdminVerticle(ProxyConfig config, BackendPool pool, EventLog events, ProxyMetrics metrics,
                       SessionCounter sessions, LoginThrottle throttle, io.dstunnel.cluster.ClusterNode cluster) {
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
    Router router = Router.router(vertx);
    HealthChecks live = HealthChecks.create(vertx).register("process", p -> p.complete(Status.OK()));
    HealthChecks ready = HealthChecks.create(vertx)
        .register("tunnel-listening", p -> p.complete(sessions.draining()
            ? Status.KO(new JsonObject().put("reason", "draining")) : Status.OK()))
        .register("backend-up", p -> p.complete(pool.backends().stream().anyMatch(b -> b.isUp())
            ? Status.OK() : Status.KO(new JsonObject().put("reason", "no backend is up"))));
    router.get("/health/live").handler(HealthCheckHandler.createWithHealthChecks(live));
    router.get("/health/ready").handler(HealthCheckHandler.createWithHealthChecks(ready));

    Logins logins = new Logins(new Authenticator(vertx, config.auth()), throttle, "admin");
    router.route().handler(ctx -> authenticate(ctx, logins));
    if (metrics.registry() instanceof PrometheusMeterRegistry prometheus) {
      router.get("/metrics").handler(PrometheusScrapingHandler.create(prometheus));
    }
    new AdminApi(vertx, config, pool, events, cluster).mount(router);
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

    server = vertx.createHttpServer(new HttpServerOptions().setHost(config.admin().host()).setPort(config.admin().port()));
    return server.requestHandler(router).listen();
  }

  private static void authenticate(RoutingContext ctx, Logins logins) {
    if (!logins.enabled()) {
      ctx.next();
      return;
    }
    ctx.request().pause();
    String address = ctx.request().remoteAddress() == null ? "?" : ctx.request().remoteAddress().hostAddress();
    logins.check(address, ctx.request().getHeader(HttpHeaders.AUTHORIZATION)).onComplete(ar -> {
      ctx.request().resume();
      if (ar.succeeded() && ar.result() != null) {
        ctx.next();
      } else if (ar.cause() instanceof LoginRefused refused) {
        ctx.response().putHeader(HttpHeaders.RETRY_AFTER, Long.toString(refused.retryAfterSeconds()));
        AdminApi.error(ctx, refused.status(), refused.getMessage());
      } else {
        ctx.response().putHeader("WWW-Authenticate", "Basic realm=\"dstunnel admin\"");
        AdminApi.error(ctx, 401, "Authentication failed");
      }
    });
  }

  @Override
  public Future<?> stop() {
    return server.close();
  }

  public int actualPort() {
    return server.actualPort();
  }
}
