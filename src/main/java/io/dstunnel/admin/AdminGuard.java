// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.admin;

import io.dstunnel.auth.LoginRefused;
import io.dstunnel.auth.Logins;
import io.dstunnel.config.Role;
import io.dstunnel.events.EventLog;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.HostAndPort;
import io.vertx.ext.web.RoutingContext;
import java.util.Set;

/**
 * Who may do what on the admin listener, checked in this order: credentials (401, and the login
 * throttle's 429), then for an action (POST, DELETE) proof that it came from the status page or a
 * script rather than another site open in the operator's browser (403), then the user's
 * {@link Role} for the path (403). Every action refused here goes to the audit trail too.
 *
 * <p>Cross-site request forgery: a browser sends Basic credentials on its own, so a form on another
 * site could post to the admin API. An action is refused when {@code Origin} names another origin
 * or {@code Sec-Fetch-Site} says it came from another site, and a request that shows a browser's
 * marks ({@code Origin}, {@code Sec-Fetch-*}, a {@code Mozilla/} user agent) must carry
 * {@code X-Requested-With}, which a cross-site form cannot send and the status page's script does.
 * Scripts (curl) are not browsers: they keep working without it, though they may send it.
 */
final class AdminGuard {

  static final String USER = "dstunnel.user";
  static final String REQUESTED_WITH = "X-Requested-With";
  private static final Set<HttpMethod> ACTIONS = Set.of(HttpMethod.POST, HttpMethod.PUT, HttpMethod.DELETE,
      HttpMethod.PATCH);
  private static final String ANONYMOUS = "anonymous";

  private final Logins logins;
  private final EventLog events;

  AdminGuard(Logins logins, EventLog events) {
    this.logins = logins;
    this.events = events;
  }

  /** The user behind the request (or "anonymous" with no users configured), or 401/429/503. */
  void authenticate(RoutingContext ctx) {
    if (!logins.enabled()) {
      ctx.put(USER, ANONYMOUS);
      ctx.next();
      return;
    }
    ctx.request().pause();
    logins.check(ctx.request(), ctx.request().getHeader(HttpHeaders.AUTHORIZATION)).onComplete(ar -> {
      ctx.request().resume();
      if (ar.succeeded() && ar.result() != null) {
        ctx.put(USER, ar.result());
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

  /** Refuses an action that may come from another site (see the class comment). */
  void sameOrigin(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    if (!ACTIONS.contains(req.method())) {
      ctx.next();
      return;
    }
    String origin = req.getHeader(HttpHeaders.ORIGIN);
    String site = req.getHeader("Sec-Fetch-Site");
    String refused = null;
    if (origin != null && !origin.equalsIgnoreCase(ownOrigin(req))) {
      refused = "Origin " + origin + " is not this admin listener";
    } else if (site != null && !site.equals("same-origin") && !site.equals("none")) {
      refused = "Sec-Fetch-Site " + site;
    } else if (req.getHeader(REQUESTED_WITH) == null && fromABrowser(req)) {
      refused = "a browser's action without " + REQUESTED_WITH;
    }
    if (refused == null) {
      ctx.next();
      return;
    }
    audit(ctx, "refused: " + refused);
    AdminApi.error(ctx, 403, "Cross-site admin action refused (" + refused
        + "); actions come from the status page, or send " + REQUESTED_WITH);
  }

  /** Lets the request on only if its user holds one of {@code roles} (no users: everyone does). */
  Handler<RoutingContext> require(Role... roles) {
    return ctx -> {
      String user = ctx.get(USER);
      if (!logins.enabled()) {
        ctx.next();
        return;
      }
      for (Role r : roles) {
        if (logins.holds(user, r)) {
          ctx.next();
          return;
        }
      }
      if (ACTIONS.contains(ctx.request().method())) {
        audit(ctx, "forbidden: role " + roles[0].key() + " required");
      }
      AdminApi.error(ctx, 403, "User " + user + " may not use this (role " + roles[0].key() + " required)");
    };
  }

  /** One audit line for the action {@code ctx} asked for, with its {@code result}. */
  void audit(RoutingContext ctx, String result) {
    AdminAction a = AdminAction.of(ctx.request().method(), ctx.normalizedPath());
    events.audit(user(ctx), a.action(), a.target(), logins.client(ctx.request()), result);
  }

  static String user(RoutingContext ctx) {
    String user = ctx.get(USER);
    return user == null ? ANONYMOUS : user;
  }

  /** This listener's own origin as the browser sees it: scheme and the Host it asked for. */
  private static String ownOrigin(HttpServerRequest req) {
    HostAndPort host = req.authority();
    if (host == null) {
      return null;
    }
    int defaultPort = req.isSSL() ? 443 : 80;
    return (req.isSSL() ? "https" : "http") + "://" + host.host()
        + (host.port() > 0 && host.port() != defaultPort ? ":" + host.port() : "");
  }

  private static boolean fromABrowser(HttpServerRequest req) {
    String agent = req.getHeader(HttpHeaders.USER_AGENT);
    return req.getHeader(HttpHeaders.ORIGIN) != null || req.getHeader("Sec-Fetch-Mode") != null
        || req.getHeader("Sec-Fetch-Site") != null || agent != null && agent.contains("Mozilla/");
  }

  /**
   * Refuses (403) a request whose {@code Host} is a name the admin listener does not answer to: a
   * page on a DNS name rebound to this address (DNS rebinding) would otherwise reach it as its own
   * origin. IP addresses and {@code localhost} are always accepted (no rebinding there), and the
   * names in {@code admin.allowedHosts}. Runs before authentication; the probes do not pass here.
   */
  static io.vertx.core.Handler<RoutingContext> hostCheck(java.util.List<String> allowedHosts) {
    return ctx -> {
      HostAndPort authority = ctx.request().authority();
      String host = authority == null ? null : authority.host().toLowerCase(java.util.Locale.ROOT);
      if (host != null && (host.equals("localhost") || isAddress(host) || allowedHosts.contains(host))) {
        ctx.next();
        return;
      }
      AdminApi.error(ctx, 403, "Host " + (host == null ? "(none)" : host) + " is not this admin listener's "
          + "(add it to admin.allowedHosts)");
    };
  }

  private static boolean isAddress(String host) {
    String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    return h.matches("\\d{1,3}(\\.\\d{1,3}){3}") || h.contains(":") && h.matches("[0-9a-f:.]+");
  }
}
