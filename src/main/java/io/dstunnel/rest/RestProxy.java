package io.dstunnel.rest;

import io.dstunnel.auth.LoginRefused;
import io.dstunnel.auth.Logins;
import io.dstunnel.backend.Backend;
import io.dstunnel.backend.BackendPool;
import io.dstunnel.backend.Failures;
import io.dstunnel.config.RestConfig;
import io.dstunnel.config.Role;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.httpproxy.Body;
import io.vertx.httpproxy.HttpProxy;
import io.vertx.httpproxy.MediaType;
import io.vertx.httpproxy.ProxyContext;
import io.vertx.httpproxy.ProxyInterceptor;
import io.vertx.httpproxy.ProxyRequest;
import io.vertx.httpproxy.ProxyResponse;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;

/**
 * DataSnap REST through dstunnel (rest.md), on vertx-http-proxy: requests under
 * {@code /{context}/rest/} stream to a backend's REST port and back (hop-by-hop headers handled by
 * the module), with dstunnel's own session ids in place of the backends' ({@link RestSessions}).
 *
 * <ul>
 * <li>A request without a session is balanced as a new tunnel session is (priorities, health,
 * drain); every request of a session goes to the backend that holds it.
 * <li>When that backend is down or refuses the connection, the request goes to another backend
 * without a session id and with the credentials that opened the session: the backend opens a
 * fresh session, the mapping follows, the client keeps its id (server-side session data is gone).
 * <li>A request that could not be sent goes to the next backend; one sent and then failed answers
 * 502 with a JSON error unless its method is in {@code rest.retryableMethods} (bodiless requests).
 * <li>Channels: {@code ConsumeClientChannel} stays with the backend holding that client's channel,
 * {@code NotifyCallback} goes there, {@code BroadcastToChannel} goes to every backend with
 * consumers of the channel ({@code [true]} if one took it).
 * </ul>
 * One per tunnel verticle instance (its own HTTP client on its event loop).
 */
public final class RestProxy implements ProxyInterceptor {

  private static final String EXCHANGE = "dstunnel.rest";

  /** What one request is on its way to do. */
  private static final class Exchange {
    RestCall call;
    RestSession session;
    String user;
    String authorization;
    Backend target;
    Queue<Backend> others = new ArrayDeque<>();
    /** The request carries no backend session id (a new session, or a re-login). */
    boolean fresh;
    /** Sent somewhere else than the session's backend, which keeps the session (NotifyCallback). */
    boolean offSession;
    boolean retried;
  }

  private final BackendPool pool;
  private final RestSessions sessions;
  private final Logins logins;
  private final RestConfig config;
  private final String prefix;
  private final HttpClient client;
  private final HttpProxy proxy;

  public RestProxy(Vertx vertx, BackendPool pool, RestSessions sessions, Logins logins, RestConfig config,
                   String context) {
    this.pool = pool;
    this.sessions = sessions;
    this.logins = logins;
    this.config = config;
    this.prefix = "/" + context + "/rest/";
    // No idle timeout towards the backends: a ConsumeClientChannel long poll may wait a long time.
    // A connection per request: a request never goes out on a pooled connection that the server
    // has closed meanwhile (a dead server's), so a failure after sending means the server had it.
    this.client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(false).setIdleTimeout(0)
        .setConnectTimeout(pool.config().connectTimeoutMs()), new PoolOptions().setHttp1MaxSize(256));
    this.proxy = HttpProxy.reverseProxy(client).origin(this::origin).addInterceptor(this);
  }

  /** The path prefix this proxy serves, {@code /{context}/rest/}. */
  public String prefix() {
    return prefix;
  }

  public void handle(HttpServerRequest request) {
    proxy.handle(request);
  }

  // ---- the request -----------------------------------------------------------------------------

  @Override
  public Future<ProxyResponse> handleProxyRequest(ProxyContext ctx) {
    ProxyRequest req = ctx.request();
    if (pool.backends().stream().noneMatch(b -> b.config().servesRest())) {
      // No backend names an httpPort: there is no REST here, as for any unknown path.
      return Future.succeededFuture(own(req, 404, new JsonObject().put("error", "Not found"), null));
    }
    HttpServerRequest in = req.proxiedRequest();
    String path = in.path();
    RestCall call = RestCall.parse(path.length() > prefix.length() ? path.substring(prefix.length()) : "",
        in.query(), in.getHeader("Pragma"));
    return authorize(in, call)
        .compose(ex -> {
          if (call.closeSession() && ex.session != null && !ex.session.backend().isUp()) {
            sessions.close(ex.session);
            return Future.succeededFuture(own(req, 200, new JsonObject().put("result", new JsonArray().add(true)), null));
          }
          if (call.is("DSAdmin", "BroadcastToChannel") && call.arg(0) != null
              && !sessions.consumersOf(call.arg(0)).isEmpty()) {
            return broadcast(req, ex);
          }
          if ("100-continue".equalsIgnoreCase(in.getHeader(HttpHeaders.EXPECT))) {
            // Checks passed: the client may send its body (PHP's curl asks for bodies over 1 KiB).
            in.response().writeContinue();
            req.headers().remove(HttpHeaders.EXPECT);
          }
          if (!route(ex)) {
            return Future.succeededFuture(own(req, 503, new JsonObject().put("error", "No backend available"), ex.session));
          }
          rewrite(req, ex);
          ctx.set(EXCHANGE, ex);
          return send(ctx, ex);
        })
        .recover(err -> Future.succeededFuture(refusal(req, err)));
  }

  private Future<ProxyResponse> send(ProxyContext ctx, Exchange ex) {
    return ctx.sendRequest().recover(err -> {
      boolean bodiless = ctx.request().proxiedRequest().getHeader(HttpHeaders.CONTENT_LENGTH) == null
          && ctx.request().proxiedRequest().getHeader(HttpHeaders.TRANSFER_ENCODING) == null;
      if (err instanceof Unreachable) {
        return Future.failedFuture(new Refused(503, "No backend available: " + err.getMessage()));
      }
      if (!ex.retried && bodiless && config.retryableMethods().contains(ex.call.qualified()) && reroute(ex)) {
        ex.retried = true;
        rewrite(ctx.request(), ex);
        ctx.request().setBody(Body.body(Buffer.buffer()));  // the request's own (empty) body was read
        return send(ctx, ex);
      }
      return Future.failedFuture(new Refused(502, "Backend failed after the request was sent: "
          + Failures.describe(err)));
    });
  }

  /** The session and user behind the request: 401/403 as DataSnap and the tunnel answer them. */
  private Future<Exchange> authorize(HttpServerRequest in, RestCall call) {
    Exchange ex = new Exchange();
    ex.call = call;
    String header = in.getHeader(HttpHeaders.AUTHORIZATION);
    if (call.sessionId() != null) {
      ex.session = sessions.get(call.sessionId());
      if (ex.session == null) {
        return Future.failedFuture(new Refused(403, null));
      }
      ex.session.touch();
      ex.user = ex.session.user();
      ex.authorization = ex.session.authorization();
      if (header == null || !logins.enabled()) {
        return Future.succeededFuture(ex);
      }
    } else if (!logins.enabled()) {
      ex.authorization = header;
      return Future.succeededFuture(ex);
    }
    String address = in.remoteAddress() == null ? "?" : in.remoteAddress().hostAddress();
    return logins.check(address, header).map(user -> {
      if (user == null || !logins.holds(user, Role.TUNNEL)) {
        throw new Refused(401, "Authentication failed");
      }
      if (ex.session != null && !user.equals(ex.session.user())) {
        throw new Refused(403, "Session belongs to another user");
      }
      ex.user = user;
      if (ex.session == null) {
        ex.authorization = header;
      }
      return ex;
    });
  }

  /** Where the request goes; false when no backend serves REST. */
  private boolean route(Exchange ex) {
    RestCall call = ex.call;
    Backend pinned = call.is("DSAdmin", "NotifyCallback") || call.is("DSAdmin", "ConsumeClientChannel")
        ? sessions.channelOf(call.arg(call.is("DSAdmin", "NotifyCallback") ? 0 : 1)) : null;
    Backend home = ex.session == null ? null : ex.session.backend();
    if (call.is("DSAdmin", "NotifyCallback") && pinned != null && pinned.isUp() && pinned != home) {
      ex.target = pinned;
      ex.fresh = true;
      ex.offSession = ex.session != null;
      return true;
    }
    if (home != null && home.isUp() && home.config().servesRest()) {
      ex.target = home;
      ex.fresh = false;
      return true;
    }
    if (ex.session == null && pinned != null && pinned.isUp()) {
      ex.target = pinned;
      ex.fresh = true;
      return true;
    }
    return reroute(ex);
  }

  /** A new backend for the request (balanced), without the backend's session id: a (re-)login. */
  private boolean reroute(Exchange ex) {
    List<Backend> order = new ArrayList<>();
    for (Backend b : ex.target == null ? pool.forNewSession() : pool.forFailover(ex.target)) {
      if (b.config().servesRest() && b != ex.target) {
        order.add(b);
      }
    }
    if (order.isEmpty()) {
      return false;
    }
    ex.target = order.get(0);
    ex.others = new ArrayDeque<>(order.subList(1, order.size()));
    ex.fresh = true;
    return true;
  }

  /** Puts the target's session id (or none, and the session's credentials) on the request. */
  private void rewrite(ProxyRequest req, Exchange ex) {
    String backendId = ex.fresh || ex.session == null ? null : ex.session.backendId();
    req.setURI(RestCall.withSession(req.getURI(), backendId));
    String pragma = RestCall.pragmaWith(req.headers().get("Pragma"), backendId);
    if (pragma == null) {
      req.headers().remove("Pragma");
    } else {
      req.headers().set("Pragma", pragma);
    }
    if (ex.fresh && ex.authorization != null) {
      req.headers().set(HttpHeaders.AUTHORIZATION, ex.authorization);
    }
  }

  /** Connects to the exchange's target; one that refuses gives way to the next, as a re-login. */
  private Future<HttpClientRequest> origin(ProxyContext ctx) {
    Exchange ex = ctx.get(EXCHANGE, Exchange.class);
    Backend b = ex.target;
    return ctx.client().request(new RequestOptions()
            .setServer(SocketAddress.inetSocketAddress(b.config().httpPort(), b.host())))
        .onSuccess(r -> {
          // A consumer counts from the moment its long poll is on its way: a broadcast made while
          // it waits must reach its server.
          RestCall call = ex.call;
          if (call.is("DSAdmin", "ConsumeClientChannel") && call.arg(1) != null) {
            sessions.consumes(call.arg(0), call.arg(1), b);
          }
        })
        .recover(err -> {
          pool.failure(b, "REST connect failed: " + Failures.describe(err));
          Backend next = ex.others.poll();
          if (next == null && !ex.fresh && reroute(ex)) {
            next = ex.target;
          } else if (next != null) {
            ex.target = next;
            ex.fresh = true;
          }
          if (next == null) {
            return Future.failedFuture(new Unreachable(Failures.describe(err)));
          }
          rewrite(ctx.request(), ex);
          return origin(ctx);
        });
  }

  // ---- the response ----------------------------------------------------------------------------

  @Override
  public Future<Void> handleProxyResponse(ProxyContext ctx) {
    Exchange ex = ctx.get(EXCHANGE, Exchange.class);
    ProxyResponse resp = ctx.response();
    if (ex == null || resp.proxiedResponse() == null) {
      return ctx.sendResponse();
    }
    String backendId = backendSession(resp.headers().get("Pragma"));
    RestSession s = ex.session;
    if (!ex.offSession && backendId != null && resp.getStatusCode() < 400) {
      if (s == null) {
        s = sessions.open(ex.user, ex.authorization, ex.target, backendId);
      } else {
        s.boundTo(ex.target, backendId);
      }
    }
    if (s != null) {
      s.touch();
      resp.headers().set("Pragma", RestCall.pragmaWith(resp.headers().get("Pragma"), s.id()));
    } else if (backendId != null) {
      // A backend's own id never reaches a client.
      String rest = RestCall.pragmaWith(resp.headers().get("Pragma"), null);
      if (rest == null) {
        resp.headers().remove("Pragma");
      } else {
        resp.headers().set("Pragma", rest);
      }
    }
    RestCall call = ex.call;
    if (call.closeSession() && s != null && resp.getStatusCode() == 200) {
      sessions.close(s);
    }
    if (call.is("DSAdmin", "CloseClientChannel") && call.arg(0) != null && resp.getStatusCode() == 200) {
      sessions.channelClosed(call.arg(0));
    }
    return ctx.sendResponse();
  }

  private static String backendSession(String pragma) {
    if (pragma == null) {
      return null;
    }
    java.util.regex.Matcher m = RestCall.DSSESSION.matcher(pragma);
    return m.find() && !m.group(1).isEmpty() ? m.group(1) : null;
  }

  // ---- broadcasts --------------------------------------------------------------------------------

  /** Sends the broadcast to every backend with consumers of the channel; [true] if one took it. */
  private Future<ProxyResponse> broadcast(ProxyRequest req, Exchange ex) {
    String uri = RestCall.withSession(req.getURI(), null);
    List<Future<Boolean>> runs = new ArrayList<>();
    for (Backend b : sessions.consumersOf(ex.call.arg(0))) {
      if (!b.isUp()) {
        continue;
      }
      RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET)
          .setServer(SocketAddress.inetSocketAddress(b.config().httpPort(), b.host())).setURI(uri);
      if (ex.authorization != null) {
        options.putHeader(HttpHeaders.AUTHORIZATION, ex.authorization);
      }
      runs.add(client.request(options).compose(HttpClientRequest::send).compose(r -> r.body())
          .map(body -> {
            JsonArray result = new JsonObject(body).getJsonArray("result");
            return result != null && Boolean.TRUE.equals(result.getValue(0));
          })
          .otherwise(false));
    }
    return Future.join(runs).transform(ar -> {
      boolean took = runs.stream().anyMatch(f -> f.succeeded() && f.result());
      return Future.succeededFuture(own(req, 200, new JsonObject().put("result", new JsonArray().add(took)),
          ex.session));
    });
  }

  // ---- answers of dstunnel's own -----------------------------------------------------------------

  private ProxyResponse refusal(ProxyRequest req, Throwable err) {
    if (err instanceof Refused r && r.status == 403 && r.getMessage() == null) {
      return own(req, 403, new JsonObject().put("SessionExpired", "Session has expired"), null)
          .setStatusMessage("Session Expired");
    }
    if (err instanceof Refused r) {
      ProxyResponse resp = own(req, r.status, new JsonObject().put("error", r.getMessage()), null);
      if (r.status == 401) {
        resp.putHeader("WWW-Authenticate", "Basic realm=\"dstunnel\"");
      }
      return resp;
    }
    if (err instanceof LoginRefused lr) {
      return own(req, lr.status(), new JsonObject().put("error", lr.getMessage()), null)
          .putHeader(HttpHeaders.RETRY_AFTER, Long.toString(lr.retryAfterSeconds()));
    }
    return own(req, 502, new JsonObject().put("error", "Backend failed: " + err.getMessage()), null);
  }

  private static ProxyResponse own(ProxyRequest req, int status, JsonObject body, RestSession session) {
    Buffer bytes = body.toBuffer();
    ProxyResponse resp = req.release().response().setStatusCode(status)
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .setBody(Body.body(bytes, MediaType.APPLICATION_JSON));
    if (body.getValue("error") instanceof String message && message.length() < 200) {
      resp.setStatusMessage(message);  // the reason phrase says it too, as the tunnel's answers do
    }
    resp.headers().remove("Pragma");
    if (session != null) {
      resp.putHeader("Pragma", "dssession=" + session.id());
    }
    return resp;
  }

  /** A refusal of dstunnel's own, with its status; a 403 without a message is DataSnap's SessionExpired. */
  private static final class Refused extends RuntimeException {
    final int status;

    Refused(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }
  }

  /** No backend could be connected to: the request was never sent. */
  private static final class Unreachable extends RuntimeException {
    Unreachable(String message) {
      super(message, null, false, false);
    }
  }
}
