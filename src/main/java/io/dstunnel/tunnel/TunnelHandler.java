// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.tunnel;

import io.dstunnel.auth.LoginRefused;
import io.dstunnel.auth.Logins;
import io.dstunnel.config.HttpConfig;
import io.dstunnel.config.Role;
import io.dstunnel.events.ProxyMetrics;
import io.dstunnel.session.message.TunnelReply;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * The DataSnap HTTP tunnel endpoint (tunnel-protocol.md): one flat chain per request — parse the
 * line, check size and credentials before any body byte (so {@code Expect: 100-continue} is
 * answered only when nothing can refuse any more), read the body, hand it to the session. Errors
 * are {@link TunnelFailure}s, answered once, at the edge, by {@link Replies}.
 */
public final class TunnelHandler implements Handler<RoutingContext> {

  /** The header an open's answer names its new session in (for a front's session stickiness). */
  public static final String SESSION_HEADER = "dstunnel-session";

  private final HttpConfig config;
  private final Logins logins;
  private final ProxyMetrics metrics;
  private final ConnectionWatch watch;
  private final SessionClient sessions;
  private final LongPoll reads;

  public TunnelHandler(HttpConfig config, SessionClient sessions, Logins logins, ProxyMetrics metrics,
                       ConnectionWatch watch) {
    this.config = config;
    this.sessions = sessions;
    this.logins = logins;
    this.metrics = metrics;
    this.watch = watch;
    this.reads = new LongPoll(sessions, config, metrics);
  }

  @Override
  public void handle(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    req.pause();
    Future<?> done;
    String kind = "other";
    try {
      TunnelRequest r = TunnelRequest.parse(req);
      kind = r.maybeClose() ? "close" : r.kind().name().toLowerCase();
      done = r.kind() == TunnelRequest.Kind.READ ? read(req, r) : write(req, r);
    } catch (TunnelFailure f) {
      done = Future.failedFuture(f);
    }
    String metric = kind;
    ctx.addEndHandler(v -> metrics.request(metric, req.response().getStatusCode()));
    done.onFailure(err -> Replies.fail(req, err));
  }

  private Future<?> read(HttpServerRequest req, TunnelRequest r) {
    String sid = SessionClient.knownShape(r.sid());
    return credentials(req, false).compose(user -> reads.read(req, sid, user, r.readMax()));
  }

  private Future<?> write(HttpServerRequest req, TunnelRequest r) {
    Bodies.checkDeclared(req, config.writeLimitBytes());
    boolean open = r.kind() == TunnelRequest.Kind.OPEN;
    return credentials(req, open)
        .compose(user -> {
          if (HttpHeaders.CONTINUE.toString().equalsIgnoreCase(req.getHeader(HttpHeaders.EXPECT))) {
            req.response().writeContinue();
          }
          return Bodies.collect(req, config.writeLimitBytes(), watch).compose(body -> {
            metrics.bytesIn(body.length());
            String closing = r.maybeClose() ? closeTarget(r, body) : null;
            if (closing != null) {
              return sessions.close(closing, user).map(reply -> TunnelReply.accepted(closing, 0));
            }
            return writeOrOpen(r, user, body);
          });
        })
        .map(reply -> {
          if (open) {
            // Names the new session for a front that routes each session to the node that opened
            // (and owns) it: HAProxy "stick store-response res.hdr(dstunnel-session)".
            req.response().putHeader(SESSION_HEADER, reply.sessionId());
          }
          Replies.json(req.response(), new JsonObject().put("response",
              new JsonArray().add(reply.sessionId()).add(reply.count())));
          return null;
        });
  }

  private Future<TunnelReply> writeOrOpen(TunnelRequest r, String user, Buffer body) {
    if (r.sid() == null || r.sid().isEmpty()) {
      throw TunnelFailure.badRequest("HTTP request is missing the session parameter");
    }
    if (r.count() != null && !r.count().equals(Integer.toString(body.length()))) {
      throw TunnelFailure.badRequest("Count parameter " + r.count() + " does not match the " + body.length()
          + " body bytes");
    }
    if (r.kind() == TunnelRequest.Kind.OPEN) {
      return sessions.open(user, body);
    }
    return sessions.write(SessionClient.knownShape(r.sid()), user, body);
  }

  /**
   * The session a close request names, or null for an ordinary write. Both DataSnap forms carry
   * {@code dss=-<id>} as a form body without a count; a write never looks like that.
   */
  private static String closeTarget(TunnelRequest r, Buffer body) {
    if (body.length() < 6 || body.length() > 512 || !body.getString(0, 5, "ISO-8859-1").equals("dss=-")) {
      return null;
    }
    String target;
    try {
      target = URLDecoder.decode(body.getString(5, body.length(), "ISO-8859-1").trim(), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw TunnelFailure.badRequest("Malformed close request");
    }
    if (r.sid() != null && !r.sid().equals(target)) {
      throw TunnelFailure.badRequest("Close names session " + target + " but the request is for " + r.sid());
    }
    return SessionClient.knownShape(target);
  }

  /**
   * The user behind the request's credentials. On an open they are required when authentication
   * is on (401); later they are optional, but when given they must be valid (the owner's, 403).
   */
  private Future<String> credentials(HttpServerRequest req, boolean open) {
    String header = req.getHeader(HttpHeaders.AUTHORIZATION);
    if (!logins.enabled() || header == null && !open) {
      return Future.succeededFuture(null);
    }
    return logins.check(req, header)
        .recover(err -> Future.failedFuture(err instanceof LoginRefused refused
            ? new TunnelFailure(refused.status(), refused.getMessage(), refused.retryAfterSeconds()) : err))
        .map(user -> {
          // A user without the tunnel role (an operator's, Prometheus's) is no tunnel user at all.
          if (user == null || !logins.holds(user, Role.TUNNEL)) {
            throw open ? new TunnelFailure(401, "Authentication failed")
                : new TunnelFailure(403, "Session belongs to another user");
          }
          return user;
        });
  }
}
