// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.rest;

import io.dstunnel.auth.Logins;
import io.dstunnel.backend.Backend;
import io.dstunnel.backend.BackendPool;
import io.dstunnel.channels.BroadcastPeers;
import io.dstunnel.config.RestConfig;
import io.dstunnel.events.EventLog;
import io.dstunnel.session.message.SessionFailure;
import io.dstunnel.session.message.TunnelReply;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.httpproxy.HttpProxy;
import io.vertx.httpproxy.ProxyContext;
import io.vertx.httpproxy.ProxyInterceptor;
import io.vertx.httpproxy.ProxyRequest;
import io.vertx.httpproxy.ProxyResponse;
import java.util.List;

/**
 * DataSnap REST through dstunnel (rest.md), on vertx-http-proxy: requests under
 * {@code /{context}/rest/} stream to a backend's REST port and back (hop-by-hop headers handled by
 * the module), with dstunnel's own session ids in place of the backends' ({@link RestSessions}).
 * This is the handler: one chain per request (authorize, route, send; the answer binds the
 * session), with its parts in classes of their own:
 *
 * <ul>
 * <li>{@link RestRoutes}: where a request goes. One without a session is balanced as a new tunnel
 * session is (priorities, health, drain); every request of a session goes to the backend that
 * holds it; when that backend is down, to another, without a session id and with the credentials
 * that opened the session: the backend opens a fresh session, the mapping follows, the client
 * keeps its id (server-side session data is gone).
 * <li>{@link RestRetries}: sending, and sending again. A request that could not be sent goes to
 * the next backend; one written to a backend connection, new or kept alive, is never sent again:
 * if it then fails it answers 502 with a JSON error, unless its method is in
 * {@code rest.retryableMethods} (bodiless requests); a backend's SessionExpired logs in again.
 * <li>{@link RestPragma}: the session ids in the requests and answers.
 * <li>{@link RestChannels}: {@code ConsumeClientChannel} stays with the backend holding that
 * client's channel, {@code NotifyCallback} goes there, and a channel outlives its backend;
 * {@link RestBroadcast}: {@code BroadcastToChannel} goes to every backend with consumers of the
 * channel ({@code [true]} if one took it), skipping a hung one.
 * </ul>
 * One per tunnel verticle instance (its own HTTP client on its event loop), made by {@link RestService}.
 */
public final class RestProxy implements ProxyInterceptor {

  /**
   * How long an unused backend connection stays in the pool: below the keep-alive time of common
   * servers (Indy, IIS, Apache: 5 s and more), so dstunnel does not write on one the server is
   * about to close.
   */
  private static final int KEEP_ALIVE_SECONDS = 4;

  private final EventLog events;
  private final RestSessions sessions;
  private final Logins logins;
  private final RestConfig config;
  private final String prefix;
  private final HttpClient client;
  private final HttpProxy proxy;
  private final RestBroadcast broadcasts;
  private final RestChannels channels;
  private final RestRoutes routes;
  private final RestRetries retries;
  /** The application's own files (rest.passThroughPaths): passed through as they are. */
  private final HttpProxy files;
  private final String context;

  /** {@code peers}: how broadcast copies fare with each backend, shared by every instance. */
  RestProxy(Vertx vertx, BackendPool pool, RestSessions sessions, BroadcastPeers peers, Logins logins,
            RestConfig config, String context, EventLog events) {
    this.events = events;
    this.sessions = sessions;
    this.logins = logins;
    this.config = config;
    this.prefix = "/" + context + "/rest/";
    // No idle timeout towards the backends: a ConsumeClientChannel long poll may wait a long time.
    this.client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setIdleTimeout(0)
        .setKeepAliveTimeout(KEEP_ALIVE_SECONDS).setConnectTimeout(pool.config().connectTimeoutMs()),
        new PoolOptions().setHttp1MaxSize(256));
    this.channels = new RestChannels(client, sessions, pool);
    this.routes = new RestRoutes(pool, channels);
    this.retries = new RestRetries(sessions, routes, channels, config);
    this.proxy = HttpProxy.reverseProxy(client).origin(retries::origin).addInterceptor(this);
    this.files = HttpProxy.reverseProxy(client).origin(this::anyRestBackend);
    this.context = "/" + context + "/";
    this.broadcasts = new RestBroadcast(vertx, client, sessions, peers, events.metrics(),
        pool.config().broadcastTimeoutMs(), prefix);
  }

  /** How this proxy sends broadcasts, and the REST side's own {@code CloseSession}s. */
  RestBroadcast broadcasts() {
    return broadcasts;
  }

  /** The path prefix this proxy serves, {@code /{context}/rest/}. */
  public String prefix() {
    return prefix;
  }

  /**
   * Whether {@code path} is one of the application's own files (rest.md item 8): outside
   * {@code /{context}/}, under one of {@code rest.passThroughPaths}, and some backend serves REST.
   */
  public boolean passesThrough(String path) {
    return !path.startsWith(context) && config.passThroughPaths().stream().anyMatch(path::startsWith)
        && routes.anyServesRest();
  }

  /** Passes the request to a healthy backend's REST port unchanged: files hold no session, need no login. */
  public void passThrough(HttpServerRequest request) {
    request.response().endHandler(v -> events.metrics().request("rest", request.response().getStatusCode()));
    files.handle(request);
  }

  /** Any backend that serves REST, in balancing order; one that refuses gives way to the next. */
  private Future<HttpClientRequest> anyRestBackend(ProxyContext ctx) {
    List<Backend> order = routes.forAnyRequest();
    Future<HttpClientRequest> chain = Future.failedFuture(new RestReplies.Unreachable("no backend serves REST"));
    for (Backend b : order) {
      chain = chain.recover(err -> ctx.client().request(new RequestOptions()
          .setServer(SocketAddress.inetSocketAddress(b.config().httpPort(), b.host()))));
    }
    return chain;
  }

  public void handle(HttpServerRequest request) {
    request.response().endHandler(v -> events.metrics().request("rest", request.response().getStatusCode()));
    proxy.handle(request);
  }

  // ---- the request -----------------------------------------------------------------------------

  @Override
  public Future<ProxyResponse> handleProxyRequest(ProxyContext ctx) {
    ProxyRequest req = ctx.request();
    if (!routes.anyServesRest()) {
      // No backend names an httpPort: there is no REST here, as for any unknown path.
      return Future.succeededFuture(RestReplies.own(req, 404, new JsonObject().put("error", "Not found"), null));
    }
    HttpServerRequest in = req.proxiedRequest();
    String path = in.path();
    RestCall call = RestCall.parse(path.length() > prefix.length() ? path.substring(prefix.length()) : "",
        in.query(), in.getHeader("Pragma"));
    return RestExchange.authorize(in, call, sessions, logins)
        .compose(ex -> {
          if (ex.session != null) {
            ex.session.begin(in.response(), () -> {
              if (ex.relogging) {
                ex.session.reloggedIn();  // the requests that waited for it go on with its binding
              }
            });
          }
          if (call.closeSession() && ex.session != null && !ex.session.backend().isUp()) {
            return sessions.close(ex.session).otherwiseEmpty().map(v ->
                RestReplies.own(req, 200, new JsonObject().put("result", new JsonArray().add(true)), null));
          }
          if (call.is("DSAdmin", "BroadcastToChannel") && broadcasts.knows(call.arg(0))) {
            return broadcasts.send(req, call.arg(0), ex.authorization, ex.session);
          }
          if (ex.session == null) {
            // It opens a session: one place among the proxy's (session.maxSessions, per user, draining).
            TunnelReply refused = sessions.reserve(ex.user);
            if (refused != null) {
              int status = refused.failure() == SessionFailure.USER_FULL ? 429 : 503;
              return Future.succeededFuture(RestReplies.own(req, status, new JsonObject().put("error", refused.message()),
                  null));
            }
            ex.reserved = true;
            ex.keepIn(ctx);  // whatever answers it gives the place back unless a session takes it
          }
          if ("100-continue".equalsIgnoreCase(in.getHeader(HttpHeaders.EXPECT))) {
            // Checks passed: the client may send its body (PHP's curl asks for bodies over 1 KiB).
            in.response().writeContinue();
            req.headers().remove(HttpHeaders.EXPECT);
          }
          Backend channelHome = channels.pollHome(call);
          if (channelHome != null && !channelHome.isUp() && channels.reopens(ex)) {
            // The poll's channel lives on a backend that is down: it is opened again elsewhere first.
            ex.keepIn(ctx);
            return retries.keepBody(ctx, ex).compose(v -> retries.reopenAndSend(ctx, ex, channelHome, "its backend is down"));
          }
          if (!routes.route(ex)) {
            return Future.succeededFuture(RestReplies.own(req, 503, new JsonObject().put("error", "No backend available"), ex.session));
          }
          RestPragma.toBackend(req, ex);
          ex.keepIn(ctx);
          return retries.keepBody(ctx, ex).compose(v -> retries.send(ctx, ex));
        })
        .recover(err -> {
          RestExchange ex = RestExchange.of(ctx);
          if (ex != null) {
            ex.releasePlace(sessions);
          }
          return Future.succeededFuture(RestReplies.refusal(req, err));
        });
  }

  // ---- the response ----------------------------------------------------------------------------

  @Override
  public Future<Void> handleProxyResponse(ProxyContext ctx) {
    RestExchange ex = RestExchange.of(ctx);
    ProxyResponse resp = ctx.response();
    if (ex != null) {
      channels.answering(ex);
    }
    if (ex == null || resp.proxiedResponse() == null) {
      if (ex != null) {
        ex.releasePlace(sessions);  // dstunnel's own answer (no backend, a failure): no session was opened
      }
      return ctx.sendResponse();
    }
    String backendId = RestPragma.backendIdIn(resp);
    Future<RestSession> bound = Future.succeededFuture(ex.session);
    if (!ex.offSession && backendId != null && resp.getStatusCode() < 400) {
      RestSession s = ex.session;
      if (s == null) {
        ex.reserved = false;  // the new session holds the place now
        bound = sessions.open(ex.user, ex.authorization, ex.target, backendId);
      } else {
        Backend before = s.backend();
        if (before != ex.target) {
          events.restRelogin(s.id(), before == null ? null : before.name(), ex.target.name());
        }
        // Known to every node before the client hears of it (its next call may go to another).
        bound = sessions.rebind(s, ex.target, backendId).map(s);
      }
    }
    ex.releasePlace(sessions);  // answered without a session (refused, failed): the place is given back
    return bound.transform(ar -> {
      RestSession s = ar.succeeded() ? ar.result() : ex.session;
      if (s != null) {
        s.touch();
      }
      RestPragma.toClient(resp, s, backendId, sessions.idleTimeoutMs());
      channels.answered(ex.call, ctx.request(), resp.getStatusCode());
      if (ex.call.closeSession() && s != null && resp.getStatusCode() == 200) {
        // Answered once closed everywhere: the client's next call, through any node, finds it closed.
        return sessions.close(s).otherwiseEmpty().compose(v -> ctx.sendResponse());
      }
      return ctx.sendResponse();
    });
  }
}
