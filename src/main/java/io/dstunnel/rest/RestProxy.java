// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.rest;

import io.dstunnel.auth.Logins;
import io.dstunnel.backend.Backend;
import io.dstunnel.backend.BackendPool;
import io.dstunnel.backend.Failures;
import io.dstunnel.channels.BroadcastPeers;
import io.dstunnel.config.RestConfig;
import io.dstunnel.events.EventLog;
import io.dstunnel.session.SessionFailure;
import io.dstunnel.session.TunnelReply;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.httpproxy.Body;
import io.vertx.httpproxy.HttpProxy;
import io.vertx.httpproxy.ProxyContext;
import io.vertx.httpproxy.ProxyInterceptor;
import io.vertx.httpproxy.ProxyRequest;
import io.vertx.httpproxy.ProxyResponse;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.WeakHashMap;

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
 * <li>A request that could not be sent goes to the next backend; one written to a backend
 * connection, new or kept alive, is never sent again: if it then fails it answers 502 with a JSON
 * error, unless its method is in {@code rest.retryableMethods} (bodiless requests).
 * <li>Channels: {@code ConsumeClientChannel} stays with the backend holding that client's channel,
 * {@code NotifyCallback} goes there, {@code BroadcastToChannel} goes to every backend with
 * consumers of the channel ({@code [true]} if one took it), skipping a hung one ({@link RestBroadcast}).
 * </ul>
 * One per tunnel verticle instance (its own HTTP client on its event loop).
 */
public final class RestProxy implements ProxyInterceptor {

  private static final String EXCHANGE = "dstunnel.rest";
  /**
   * How long an unused backend connection stays in the pool: below the keep-alive time of common
   * servers (Indy, IIS, Apache: 5 s and more), so dstunnel does not write on one the server is
   * about to close.
   */
  private static final int KEEP_ALIVE_SECONDS = 4;
  /** The largest request body kept to be sent again after a backend's SessionExpired. */
  private static final int RESENT_BODY_LIMIT = 1 << 20;

  private final BackendPool pool;
  private final EventLog events;
  private final RestSessions sessions;
  private final Logins logins;
  private final RestConfig config;
  private final String prefix;
  private final HttpClient client;
  private final HttpProxy proxy;
  private final RestBroadcast broadcasts;
  private final RestChannels channels;
  /** The application's own files (rest.passThroughPaths): passed through as they are. */
  private final HttpProxy files;
  private final String context;
  /** Connections to backends already used once (this instance's event loop only). */
  private final Set<HttpConnection> seen = Collections.newSetFromMap(new WeakHashMap<>());

  /** {@code peers}: how broadcast copies fare with each backend, shared by every instance. */
  public RestProxy(Vertx vertx, BackendPool pool, RestSessions sessions, BroadcastPeers peers, Logins logins,
                   RestConfig config, String context, EventLog events) {
    this.pool = pool;
    this.events = events;
    this.sessions = sessions;
    this.logins = logins;
    this.config = config;
    this.prefix = "/" + context + "/rest/";
    // No idle timeout towards the backends: a ConsumeClientChannel long poll may wait a long time.
    this.client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setIdleTimeout(0)
        .setKeepAliveTimeout(KEEP_ALIVE_SECONDS).setConnectTimeout(pool.config().connectTimeoutMs()),
        new PoolOptions().setHttp1MaxSize(256));
    this.proxy = HttpProxy.reverseProxy(client).origin(this::origin).addInterceptor(this);
    this.files = HttpProxy.reverseProxy(client).origin(this::anyRestBackend);
    this.context = "/" + context + "/";
    this.broadcasts = new RestBroadcast(vertx, client, sessions, peers, events.metrics(),
        pool.config().broadcastTimeoutMs(), prefix);
    this.channels = new RestChannels(client, sessions, pool);
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
        && pool.backends().stream().anyMatch(b -> b.config().servesRest());
  }

  /** Passes the request to a healthy backend's REST port unchanged: files hold no session, need no login. */
  public void passThrough(HttpServerRequest request) {
    request.response().endHandler(v -> events.metrics().request("rest", request.response().getStatusCode()));
    files.handle(request);
  }

  /** Any backend that serves REST, in balancing order; one that refuses gives way to the next. */
  private Future<HttpClientRequest> anyRestBackend(ProxyContext ctx) {
    List<Backend> order = pool.forNewSession().stream().filter(b -> b.config().servesRest()).toList();
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
    if (pool.backends().stream().noneMatch(b -> b.config().servesRest())) {
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
            ctx.set(EXCHANGE, ex);  // whatever answers it gives the place back unless a session takes it
          }
          if ("100-continue".equalsIgnoreCase(in.getHeader(HttpHeaders.EXPECT))) {
            // Checks passed: the client may send its body (PHP's curl asks for bodies over 1 KiB).
            in.response().writeContinue();
            req.headers().remove(HttpHeaders.EXPECT);
          }
          Backend channelHome = RestChannels.isPoll(call) ? sessions.channels().of(call.arg(1)) : null;
          if (channelHome != null && !channelHome.isUp() && channels.reopens(ex)) {
            // The poll's channel lives on a backend that is down: it is opened again elsewhere first.
            ctx.set(EXCHANGE, ex);
            return keepBody(ctx, ex).compose(v -> reopenAndSend(ctx, ex, channelHome, "its backend is down"));
          }
          if (!route(ex)) {
            return Future.succeededFuture(RestReplies.own(req, 503, new JsonObject().put("error", "No backend available"), ex.session));
          }
          rewrite(req, ex);
          ctx.set(EXCHANGE, ex);
          return keepBody(ctx, ex).compose(v -> send(ctx, ex));
        })
        .recover(err -> {
          RestExchange ex = ctx.get(EXCHANGE, RestExchange.class);
          if (ex != null && ex.reserved) {
            ex.reserved = false;
            sessions.release(ex.user);
          }
          return Future.succeededFuture(RestReplies.refusal(req, err));
        });
  }

  /**
   * A request of a session mapped to a backend session keeps its body (up to
   * {@link #RESENT_BODY_LIMIT}): if the backend answers that it knows the session no more (403
   * SessionExpired: it ran nothing), the request goes again, as a login.
   */
  private Future<Void> keepBody(ProxyContext ctx, RestExchange ex) {
    HttpServerRequest in = ctx.request().proxiedRequest();
    String length = in.getHeader(HttpHeaders.CONTENT_LENGTH);
    boolean bodiless = length == null && in.getHeader(HttpHeaders.TRANSFER_ENCODING) == null;
    if (ex.session == null || ex.fresh) {
      return Future.succeededFuture();
    }
    if (bodiless) {
      ex.body = Buffer.buffer();
      return Future.succeededFuture();
    }
    long size;
    try {
      size = length == null ? -1 : Long.parseLong(length.trim());
    } catch (NumberFormatException e) {
      size = -1;
    }
    if (size < 0 || size > RESENT_BODY_LIMIT) {
      return Future.succeededFuture();  // streamed as it comes; a SessionExpired answer then reaches the client
    }
    Future<Buffer> read = in.body();
    in.resume();  // the proxy holds it paused until it pipes the body on
    return read.map(body -> {
      ex.body = body;
      ctx.request().setBody(Body.body(body));
      return null;
    });
  }

  private Future<ProxyResponse> send(ProxyContext ctx, RestExchange ex) {
    return ctx.sendRequest().compose(resp -> expired(ctx, ex, resp), err -> failed(ctx, ex, err));
  }

  /**
   * The backend's answer; a 403 SessionExpired to a mapped session's backend id (a restarted
   * server: it ran nothing) is a cue to log in again, on the same backend, with the request's body
   * kept: the client never sees it (rest.md item 4).
   */
  private Future<ProxyResponse> expired(ProxyContext ctx, RestExchange ex, ProxyResponse resp) {
    int status = resp.getStatusCode();
    // A poll answered 403 SessionExpired or 500 by its channel's backend: it no longer knows the client.
    boolean poll = (status == 403 || status == 500) && channels.reopens(ex) && resp.proxiedResponse() != null;
    if (!poll && (status != 403 || ex.fresh || ex.body == null || ex.relogged || resp.proxiedResponse() == null)) {
      return Future.succeededFuture(resp);
    }
    Future<Buffer> read = resp.proxiedResponse().body();
    resp.proxiedResponse().resume();  // the proxy hands it over paused
    return read.compose(body -> {
      boolean sessionExpired = body.toString().contains("\"SessionExpired\"");
      if (poll && (status == 500 || sessionExpired)) {
        return reopenAndSend(ctx, ex, ex.target, "its backend answered the poll " + status);
      }
      if (!sessionExpired || poll) {
        resp.setBody(Body.body(body));
        return Future.succeededFuture(resp);
      }
      resp.setBody(Body.body(body));
      // A session closed (through another node, whose notice has not come yet) stays closed: the
      // backend's SessionExpired is then the answer, not a new login. One logged in again
      // meanwhile (by another request, here or through another node) is not logged in twice: the
      // request goes again with that binding. Of requests here at once, one logs in, the others
      // wait for it (each login is a backend session of its own: the session would split).
      RestSession s = ex.session;
      return sessions.current(s).otherwise(s).compose(now -> {
        if (now == null) {
          return Future.succeededFuture(resp);
        }
        ex.relogged = true;
        ex.session = now;
        if (now.backendId() != null && !now.backendId().equals(ex.sentWith)) {
          return again(ctx, ex);
        }
        Future<Void> underWay = now.reloginUnderWay();
        if (underWay != null) {
          return underWay.transform(v -> ex.session.backendId() == null || ex.session.backendId().equals(ex.sentWith)
              ? Future.succeededFuture(resp)  // that login failed: this request's SessionExpired stands
              : again(ctx, ex));
        }
        ex.relogging = true;
        ex.fresh = true;
        return again(ctx, ex);
      });
    });
  }

  /** Sends the request again, with the session's binding as it stands (none, when {@code ex.fresh}: a login). */
  private Future<ProxyResponse> again(ProxyContext ctx, RestExchange ex) {
    if (!ex.fresh && ex.session.backend() != null) {
      ex.target = ex.session.backend();  // where that binding lives
    }
    rewrite(ctx.request(), ex);
    ctx.request().setBody(Body.body(ex.body));
    return send(ctx, ex);
  }

  /** Opens the poll's channel again on a backend (see {@link RestChannels#reopen}), then sends the poll there. */
  private Future<ProxyResponse> reopenAndSend(ProxyContext ctx, RestExchange ex, Backend from, String why) {
    return channels.reopen(ex, from, why).compose(v -> {
      rewrite(ctx.request(), ex);
      ctx.request().setBody(Body.body(ex.body == null ? Buffer.buffer() : ex.body));
      return send(ctx, ex);
    });
  }

  private Future<ProxyResponse> failed(ProxyContext ctx, RestExchange ex, Throwable failure) {
    if (channels.reopens(ex) && !(failure instanceof RestReplies.Refused)
        && !ctx.request().proxiedRequest().response().closed()) {  // (a client that left is no backend's failure)
      // A poll sent again is what DataSnap allows (rest.md item 5): it ran nothing but a wait.
      pool.failure(ex.target, "REST channel poll failed: " + Failures.describe(failure));
      return reopenAndSend(ctx, ex, ex.target, "its poll failed (" + Failures.describe(failure) + ")");
    }
    return Future.<ProxyResponse>failedFuture(failure).recover(err -> {
      boolean bodiless = ctx.request().proxiedRequest().getHeader(HttpHeaders.CONTENT_LENGTH) == null
          && ctx.request().proxiedRequest().getHeader(HttpHeaders.TRANSFER_ENCODING) == null;
      if (err instanceof RestReplies.Unreachable) {
        return Future.failedFuture(new RestReplies.Refused(503, "No backend available: " + err.getMessage()));
      }
      // A request written to a backend connection, new or kept alive, is never sent again (the
      // server may have been running it): pooled connections are let go before a server's own
      // keep-alive would drop them (KEEP_ALIVE_SECONDS), so a stale one is not what failed here.
      if (!ex.retried && bodiless && config.retryableMethods().contains(ex.call.qualified()) && reroute(ex)) {
        ex.retried = true;
        rewrite(ctx.request(), ex);
        ctx.request().setBody(Body.body(Buffer.buffer()));  // the request's own (empty) body was read
        return send(ctx, ex);
      }
      return Future.failedFuture(new RestReplies.Refused(502, "Backend failed after the request was sent: "
          + Failures.describe(err) + (ex.reused ? " (on a kept-alive connection)" : "")));
    });
  }

  /** Where the request goes; false when no backend serves REST. */
  private boolean route(RestExchange ex) {
    RestCall call = ex.call;
    Backend pinned = call.is("DSAdmin", "NotifyCallback") || call.is("DSAdmin", "ConsumeClientChannel")
        ? sessions.channels().of(call.arg(call.is("DSAdmin", "NotifyCallback") ? 0 : 1)) : null;
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
  private boolean reroute(RestExchange ex) {
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
  private void rewrite(ProxyRequest req, RestExchange ex) {
    String backendId = ex.fresh || ex.session == null ? null : ex.session.backendId();
    ex.sentWith = backendId;
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
    RestExchange ex = ctx.get(EXCHANGE, RestExchange.class);
    Backend b = ex.target;
    return ctx.client().request(new RequestOptions()
            .setServer(SocketAddress.inetSocketAddress(b.config().httpPort(), b.host())))
        .onSuccess(r -> {
          ex.reused = !seen.add(r.connection());
          // A consumer counts from the moment its long poll is on its way: a broadcast made while
          // it waits must reach its server.
          RestCall call = ex.call;
          if (call.is("DSAdmin", "ConsumeClientChannel") && call.arg(1) != null && !ex.channelCall) {
            ex.channelCall = true;
            sessions.channels().call(call.arg(1), true);
          }
          // (a registration names its channel; a poll, only its ClientId)
          if (RestChannels.isRegistration(call)) {
            channels.sending(call, RestCall.withSession(ctx.request().getURI(), null), b);
          } else if (call.is("DSAdmin", "ConsumeClientChannel") && call.arg(0) != null && call.arg(1) != null) {
            sessions.channels().consumes(call.arg(0), call.arg(1), b);
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
            return Future.failedFuture(new RestReplies.Unreachable(Failures.describe(err)));
          }
          rewrite(ctx.request(), ex);
          return origin(ctx);
        });
  }

  // ---- the response ----------------------------------------------------------------------------

  @Override
  public Future<Void> handleProxyResponse(ProxyContext ctx) {
    RestExchange ex = ctx.get(EXCHANGE, RestExchange.class);
    ProxyResponse resp = ctx.response();
    if (ex != null && ex.channelCall) {
      ex.channelCall = false;
      sessions.channels().call(ex.call.arg(1), false);
    }
    if (ex == null || resp.proxiedResponse() == null) {
      if (ex != null && ex.reserved) {
        ex.reserved = false;  // dstunnel's own answer (no backend, a failure): no session was opened
        sessions.release(ex.user);
      }
      return ctx.sendResponse();
    }
    String backendId = RestCall.sessionIn(resp.headers().get("Pragma"));
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
    if (ex.reserved) {
      ex.reserved = false;  // answered without a session (refused, failed): the place is given back
      sessions.release(ex.user);
    }
    return bound.transform(ar -> {
      RestSession s = ar.succeeded() ? ar.result() : ex.session;
      if (s != null) {
        s.touch();
        resp.headers().set("Pragma", RestCall.withExpiry(RestCall.pragmaWith(resp.headers().get("Pragma"), s.id()),
            sessions.idleTimeoutMs()));
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
      channels.answered(call, RestCall.withSession(ctx.request().getURI(), null), resp.getStatusCode());
      if (call.is("DSAdmin", "CloseClientChannel") && call.arg(0) != null && resp.getStatusCode() == 200) {
        sessions.channels().closed(call.arg(0));
      }
      if (call.closeSession() && s != null && resp.getStatusCode() == 200) {
        // Answered once closed everywhere: the client's next call, through any node, finds it closed.
        return sessions.close(s).otherwiseEmpty().compose(v -> ctx.sendResponse());
      }
      return ctx.sendResponse();
    });
  }
}
