package io.dstunnel.tunnel;

import io.dstunnel.auth.Authenticator;
import io.dstunnel.config.ProxyConfig;
import io.dstunnel.events.ProxyMetrics;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;

/**
 * The HTTP listener of the tunnel: routes {@code /{context}/tunnel} to a {@link TunnelHandler}
 * and answers 404 with a JSON error elsewhere. Deployed once per event loop; Vert.x shares the
 * port among the instances.
 */
public final class TunnelVerticle extends VerticleBase {

  private final ProxyConfig config;
  private final ProxyMetrics metrics;
  private HttpServer server;

  public TunnelVerticle(ProxyConfig config, ProxyMetrics metrics) {
    this.config = config;
    this.metrics = metrics;
  }

  @Override
  public Future<?> start() {
    Authenticator auth = new Authenticator(vertx, config.auth());
    long openTimeout = (long) config.pool().connectTimeoutMs() * (config.backends().size() + 1) + 30_000;
    TunnelHandler tunnel = new TunnelHandler(config.http(), vertx.eventBus(), auth, openTimeout, metrics);
    Router router = Router.router(vertx);
    router.route("/" + config.http().context() + "/tunnel").handler(tunnel);
    router.route().handler(ctx -> TunnelHandler.fail(ctx.request(), new TunnelFailure(404, "Not found")));
    router.errorHandler(500, ctx -> TunnelHandler.fail(ctx.request(), ctx.failure()));
    server = vertx.createHttpServer(new HttpServerOptions()
        .setHost(config.http().host())
        .setPort(config.http().port())
        .setTcpNoDelay(true)
        .setCompressionSupported(false));
    return server.requestHandler(router).listen();
  }

  @Override
  public Future<?> stop() {
    return server.close();
  }

  /** The port actually bound (differs from the config when it asked for 0). */
  public int actualPort() {
    return server.actualPort();
  }
}
