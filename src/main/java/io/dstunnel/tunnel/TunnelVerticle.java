// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.tunnel;

import io.dstunnel.MalformedRequests;
import io.dstunnel.auth.Authenticator;
import io.dstunnel.auth.ClientAddress;
import io.dstunnel.auth.LoginThrottle;
import io.dstunnel.auth.Logins;
import io.dstunnel.cluster.SessionRouter;
import io.dstunnel.config.ProxyConfig;
import io.dstunnel.events.ProxyMetrics;
import io.dstunnel.rest.RestProxy;
import io.dstunnel.rest.RestService;
import io.dstunnel.session.SessionLanes;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.CorsHandler;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP listener of the tunnel: routes {@code /{context}/tunnel} to a {@link TunnelHandler},
 * {@code /{context}/rest/} to the {@link RestProxy} the REST side ({@link RestService}) makes for
 * this instance (DataSnap REST), and answers 404 with a JSON
 * error elsewhere. Deployed once per event loop; Vert.x shares the
 * port among the instances.
 */
public final class TunnelVerticle extends VerticleBase {

  private final ProxyConfig config;
  private final ProxyMetrics metrics;
  private final LoginThrottle throttle;
  private final int port;
  private final SessionRouter router;
  private final RestService rest;
  private HttpServer server;
  private final SessionLanes lanes;
  private boolean sharesLane;

  /** {@code port}: the port to bind, which may differ from the config's (the real one when that asked for 0). */
  public TunnelVerticle(ProxyConfig config, int port, ProxyMetrics metrics, LoginThrottle throttle,
                        SessionRouter router, RestService rest, SessionLanes lanes) {
    this.lanes = lanes;
    this.router = router;
    this.rest = rest;
    this.config = config;
    this.port = port;
    this.metrics = metrics;
    this.throttle = throttle;
  }

  @Override
  public Future<?> start() {
    sharesLane = lanes.onThisThread();
    Logins logins = new Logins(new Authenticator(vertx, config.auth()), throttle, "tunnel",
        new ClientAddress(config.http().fronts()));
    long openTimeout = (long) config.pool().connectTimeoutMs() * (config.backends().size() + 1) + 30_000;
    ConnectionWatch idle = new ConnectionWatch(vertx, config.http().idleTimeoutMs(), config.http().requestTimeoutMs());
    SessionClient sessions = new SessionClient(vertx.eventBus(), openTimeout, config.session().writeWaitMs(),
        router, lanes, logins.enabled());
    TunnelHandler tunnel = new TunnelHandler(config.http(), sessions, logins, metrics, idle);
    Router router = Router.router(vertx);
    router.route().handler(ctx -> {
      HttpConnection conn = ctx.request().connection();
      idle.requestStarted(conn);
      ctx.addEndHandler(v -> idle.requestEnded(conn));
      ctx.next();
    });
    router.route("/" + config.http().context() + "/tunnel").handler(tunnel);
    RestProxy rest = this.rest.proxy(vertx, logins);
    if (!config.rest().corsOrigins().isEmpty()) {
      // Browser pages of the listed origins may call the REST side; preflights need no credentials.
      router.route(rest.prefix() + "*").handler(cors(config.rest().corsOrigins()));
    }
    router.route(rest.prefix() + "*").handler(ctx -> rest.handle(ctx.request()));
    router.route().handler(ctx -> {
      if (rest.passesThrough(ctx.request().path())) {
        rest.passThrough(ctx.request());  // the REST application's own pages and scripts
      } else {
        Replies.fail(ctx.request(), new TunnelFailure(404, "Not found"));
      }
    });
    // The router's own refusals too get a status, a reason and a JSON body; a 500 is logged.
    for (int code = 400; code < 600; code++) {
      int status = code;
      router.errorHandler(code, ctx -> Replies.fail(ctx.request(), status == 500 ? ctx.failure()
          : new TunnelFailure(status, HttpResponseStatus.valueOf(status).reasonPhrase())));
    }
    HttpServerOptions options = new HttpServerOptions()
        .setHost(config.http().host())
        .setPort(port)
        .setTcpNoDelay(true)
        .setCompressionSupported(false)
        // No h2c sniffing: a connection is known (and its idle time counted) from its first moment.
        .setHttp2ClearTextEnabled(false)
        .setMaxInitialLineLength(config.http().maxInitialLineLength())
        .setMaxHeaderSize(config.http().maxHeaderSize())
        // Every connection then starts with the front's PROXY header (netty-codec-haproxy decodes it).
        .setUseProxyProtocol(config.http().fronts().proxyProtocol());
    if (config.http().tls() != null) {
      options.setSsl(true).setKeyCertOptions(new PemKeyCertOptions()
          .setCertPath(config.http().tls().certPath()).setKeyPath(config.http().tls().keyPath()));
    }
    server = vertx.createHttpServer(options);
    return server.requestHandler(req -> {
      if (validEscapes(req.path())) {
        MalformedRequests.route(router, req);
      } else {
        Replies.fail(req, TunnelFailure.badRequest("Malformed request path"));
      }
    }).invalidRequestHandler(TunnelVerticle::invalid)
        .connectionHandler(idle::opened).listen();
  }

  /** CORS for {@code origins} (rest.md item 9): the JavaScript framework's methods and request headers. */
  private static CorsHandler cors(List<String> origins) {
    CorsHandler cors = CorsHandler.create()
        .allowedMethods(Set.of(HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT, HttpMethod.DELETE, HttpMethod.OPTIONS))
        .allowedHeaders(Set.of("Authorization", "Pragma", "Content-Type", "Accept", "If-Modified-Since"))
        .exposedHeader("Pragma");
    origins.forEach(cors::addOrigin);
    return cors;
  }

  /** Whether every '%' in {@code path} starts a two-digit hex escape (the router cannot route others). */
  static boolean validEscapes(String path) {
    for (int i = path.indexOf('%'); i >= 0; i = path.indexOf('%', i + 1)) {
      if (i + 2 >= path.length() || Character.digit(path.charAt(i + 1), 16) < 0
          || Character.digit(path.charAt(i + 2), 16) < 0) {
        return false;
      }
    }
    return true;
  }

  /** A request Netty could not decode (line or headers too long, malformed): status and JSON body. */
  private static void invalid(HttpServerRequest req) {
    Throwable cause = req.decoderResult().cause();
    int status = 400;
    String message = "Malformed HTTP request";
    if (cause instanceof TooLongHttpLineException) {
      status = 414;
      message = "Request line too long";
    } else if (cause instanceof TooLongHttpHeaderException) {
      status = 431;
      message = "Request headers too large";
    }
    req.response().setStatusCode(status).setStatusMessage(message)
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json").putHeader(HttpHeaders.CONNECTION, "close")
        .end(new JsonObject().put("error", message).toBuffer())
        .onComplete(v -> req.connection().close());
  }

  @Override
  public Future<?> stop() {
    return server.close();
  }

  /**
   * Stops taking connections and closes each open one once its request in progress is answered
   * (an idle one at once); after {@code graceMs}, closes what is left.
   */
  public Future<Void> shutdown(long graceMs) {
    return server.shutdown(graceMs, TimeUnit.MILLISECONDS);
  }

  /** Whether this instance shares its event loop with a session verticle (see {@link SessionLanes}). */
  public boolean sharesLane() {
    return sharesLane;
  }

  /** The port actually bound (differs from the config when it asked for 0). */
  public int actualPort() {
    return server.actualPort();
  }
}
