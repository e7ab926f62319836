// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.rest;

import io.dstunnel.backend.Backend;
import io.dstunnel.backend.Failures;
import io.dstunnel.config.RestConfig;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.httpproxy.Body;
import io.vertx.httpproxy.ProxyContext;
import io.vertx.httpproxy.ProxyResponse;
import java.util.Collections;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * Sending a REST request, and sending it again when that is safe (rest.md items 3 to 5):
 *
 * <ul>
 * <li>a backend that refuses the connection gives way to the next, as a login (nothing was sent);
 * <li>a request written to a backend connection, new or kept alive, is never sent again: if it
 * then fails it answers 502, unless its method is in {@code rest.retryableMethods} (bodiless);
 * <li>a 403 SessionExpired to a mapped session's backend id (a restarted server: it ran nothing)
 * logs the session in again, on the same backend, with the request's kept body: the client never
 * sees it (rest.md item 4);
 * <li>a channel poll whose backend died or forgot the client goes where the channel is opened
 * again ({@link RestChannels#reopen}).
 * </ul>
 * One per {@link RestProxy}: the connections it has seen are its event loop's.
 */
final class RestRetries {

  /** The largest request body kept to be sent again after a backend's SessionExpired. */
  private static final int RESENT_BODY_LIMIT = 1 << 20;

  private final RestSessions sessions;
  private final RestRoutes routes;
  private final RestChannels channels;
  private final RestConfig config;
  /** Connections to backends already used once (this instance's event loop only). */
  private final Set<HttpConnection> seen = Collections.newSetFromMap(new WeakHashMap<>());

  RestRetries(RestSessions sessions, RestRoutes routes, RestChannels channels, RestConfig config) {
    this.sessions = sessions;
    this.routes = routes;
    this.channels = channels;
    this.config = config;
  }

  /**
   * A request of a session mapped to a backend session keeps its body (up to
   * {@link #RESENT_BODY_LIMIT}): if the backend answers that it knows the session no more (403
   * SessionExpired: it ran nothing), the request goes again, as a login.
   */
  Future<Void> keepBody(ProxyContext ctx, RestExchange ex) {
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

  /** Sends the request as it stands; its answer or failure may send it again. */
  Future<ProxyResponse> send(ProxyContext ctx, RestExchange ex) {
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
    RestPragma.toBackend(ctx.request(), ex);
    ctx.request().setBody(Body.body(ex.body));
    return send(ctx, ex);
  }

  /** Opens the poll's channel again on a backend (see {@link RestChannels#reopen}), then sends the poll there. */
  Future<ProxyResponse> reopenAndSend(ProxyContext ctx, RestExchange ex, Backend from, String why) {
    return channels.reopen(ex, from, why).compose(v -> {
      RestPragma.toBackend(ctx.request(), ex);
      ctx.request().setBody(Body.body(ex.body == null ? Buffer.buffer() : ex.body));
      return send(ctx, ex);
    });
  }

  private Future<ProxyResponse> failed(ProxyContext ctx, RestExchange ex, Throwable failure) {
    if (channels.reopens(ex) && !(failure instanceof RestReplies.Refused)
        && !ctx.request().proxiedRequest().response().closed()) {  // (a client that left is no backend's failure)
      // A poll sent again is what DataSnap allows (rest.md item 5): it ran nothing but a wait.
      routes.failed(ex.target, "REST channel poll failed: " + Failures.describe(failure));
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
      // keep-alive would drop them (RestProxy.KEEP_ALIVE_SECONDS), so a stale one is not what failed here.
      if (!ex.retried && bodiless && config.retryableMethods().contains(ex.call.qualified()) && routes.reroute(ex)) {
        ex.retried = true;
        RestPragma.toBackend(ctx.request(), ex);
        ctx.request().setBody(Body.body(Buffer.buffer()));  // the request's own (empty) body was read
        return send(ctx, ex);
      }
      return Future.failedFuture(new RestReplies.Refused(502, "Backend failed after the request was sent: "
          + Failures.describe(err) + (ex.reused ? " (on a kept-alive connection)" : "")));
    });
  }

  /** Connects to the exchange's target; one that refuses gives way to the next, as a re-login. */
  Future<HttpClientRequest> origin(ProxyContext ctx) {
    RestExchange ex = RestExchange.of(ctx);
    Backend b = ex.target;
    return ctx.client().request(new RequestOptions()
            .setServer(SocketAddress.inetSocketAddress(b.config().httpPort(), b.host())))
        .onSuccess(r -> {
          ex.reused = !seen.add(r.connection());
          channels.sending(ex, ctx.request(), b);
        })
        .recover(err -> {
          routes.connectFailed(b, err);
          Backend next = routes.next(ex);
          if (next == null) {
            return Future.failedFuture(new RestReplies.Unreachable(Failures.describe(err)));
          }
          RestPragma.toBackend(ctx.request(), ex);
          return origin(ctx);
        });
  }
}
