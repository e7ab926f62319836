// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.rest;

import io.dstunnel.auth.Logins;
import io.dstunnel.backend.Backend;
import io.dstunnel.config.Role;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.httpproxy.ProxyContext;
import java.util.ArrayDeque;
import java.util.Queue;

/** What one REST request is on its way to do: its call, session, user, and the backend it goes to. */
final class RestExchange {

  /** Where a request's exchange is kept in its {@link ProxyContext}. */
  private static final String KEY = "dstunnel.rest";

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
  /** The request went out on a pooled connection used before. */
  boolean reused;
  /** The request's body, kept to be sent again after a backend's SessionExpired (null: not kept). */
  Buffer body;
  /** Sent again already after a SessionExpired. */
  boolean relogged;
  /** The backend session id the request was last sent with (null: none, a login). */
  String sentWith;
  /** This request logs its session in again: what ends that when its answer is out. */
  boolean relogging;
  /** A channel poll whose channel was opened again elsewhere already. */
  boolean reopened;
  /** A channel call of a ClientId under way (counted in {@link RestSessions#channelCall}). */
  boolean channelCall;
  /** Holds a place among the proxy's sessions for the session this request opens (until it does). */
  boolean reserved;

  /** The exchange kept in {@code ctx}, or null when none is (yet). */
  static RestExchange of(ProxyContext ctx) {
    return ctx.get(KEY, RestExchange.class);
  }

  /** Keeps this exchange in {@code ctx}: the origin and the response side find it there. */
  void keepIn(ProxyContext ctx) {
    ctx.set(KEY, this);
  }

  /** Gives back the place among the proxy's sessions this request held, if it still holds one. */
  void releasePlace(RestSessions sessions) {
    if (reserved) {
      reserved = false;
      sessions.release(user);
    }
  }

  /** The session and user behind the request: 401/403 as DataSnap and the tunnel answer them. */
  static Future<RestExchange> authorize(HttpServerRequest in, RestCall call, RestSessions sessions, Logins logins) {
    RestExchange ex = new RestExchange();
    ex.call = call;
    String header = in.getHeader(HttpHeaders.AUTHORIZATION);
    if (call.sessionId() != null) {
      return sessions.find(call.sessionId()).compose(found -> {
        if (found == null) {
          return Future.failedFuture(new RestReplies.Refused(403, null));
        }
        if (found.user() != null && !logins.enabled()) {
          // A node with no users (any node serves any REST session of its cluster) and a session a
          // user opened through one that checks credentials: not this node's to serve, as a tunnel
          // session refuses such a node's requests.
          return Future.failedFuture(new RestReplies.Refused(403, "Session belongs to another user"));
        }
        ex.session = found;
        ex.user = found.user();
        ex.authorization = found.authorization();
        return header == null || !logins.enabled() ? Future.succeededFuture(ex) : login(in, ex, header, logins);
      });
    }
    if (!logins.enabled()) {
      ex.authorization = header;
      return Future.succeededFuture(ex);
    }
    return login(in, ex, header, logins);
  }

  /** Checks the request's own credentials: a tunnel user, and the session's owner if it names one. */
  private static Future<RestExchange> login(HttpServerRequest in, RestExchange ex, String header, Logins logins) {
    return logins.check(in, header).map(user -> {
      if (user == null || !logins.holds(user, Role.TUNNEL)) {
        throw new RestReplies.Refused(401, "Authentication failed");
      }
      if (ex.session != null && !user.equals(ex.session.user())) {
        throw new RestReplies.Refused(403, "Session belongs to another user");
      }
      ex.user = user;
      if (ex.session == null) {
        ex.authorization = header;
      }
      return ex;
    });
  }
}
