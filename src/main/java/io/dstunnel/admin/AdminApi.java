// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.admin;

import io.dstunnel.backend.Backend;
import io.dstunnel.backend.BackendPool;
import io.dstunnel.cluster.ClusterNode;
import io.dstunnel.cluster.SessionRouter;
import io.dstunnel.config.BackendMode;
import io.dstunnel.config.ProxyConfig;
import io.dstunnel.events.EventLog;
import io.dstunnel.rest.RestService;
import io.dstunnel.session.Addresses;
import io.dstunnel.session.SessionIds;
import io.dstunnel.session.SessionSnapshots;
import io.dstunnel.session.message.SessionFailure;
import io.dstunnel.session.message.TunnelCommand;
import io.dstunnel.session.message.TunnelReply;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin API: backends (state, sessions, drain/migrate/enable/disable), sessions (paged,
 * filtered by backend and user; closed with DELETE) and the recent event history. Sessions are
 * gathered from every session verticle instance over the event bus, each answering on its own
 * event loop, so no session state is read from another thread.
 */
final class AdminApi {

  private static final Logger LOG = LoggerFactory.getLogger(AdminApi.class);

  private static final Map<String, BackendMode> ACTIONS = Map.of(
      "drain", BackendMode.DRAIN, "migrate", BackendMode.MIGRATE, "enable", BackendMode.ACTIVE,
      "disable", BackendMode.DISABLE);

  private final Vertx vertx;
  private final ProxyConfig config;
  private final BackendPool pool;
  private final EventLog events;

  private final ClusterNode cluster;
  private final SessionRouter router;
  private final AdminGuard guard;
  private final RestService rest;

  /** {@code cluster}: this node in its cluster, or null for a single node. */
  AdminApi(Vertx vertx, ProxyConfig config, BackendPool pool, EventLog events, ClusterNode cluster,
           AdminGuard guard, RestService rest) {
    this.vertx = vertx;
    this.rest = rest;
    this.guard = guard;
    this.cluster = cluster;
    this.router = cluster == null ? null : new SessionRouter(cluster);
    this.config = config;
    this.pool = pool;
    this.events = events;
  }

  void mount(Router router) {
    router.get("/admin/backends").handler(this::backends);
    router.post("/admin/backends/:name/:action").handler(this::backendAction);
    router.get("/admin/sessions").handler(this::sessions);
    router.delete("/admin/sessions/:id").handler(this::closeSession);
    // The actions' paths asked with another method (a GET from a browser's address bar): 405, not
    // the status page's 404.
    router.route("/admin/backends/:name/:action").handler(ctx -> notAllowed(ctx, "POST"));
    router.route("/admin/sessions/:id").handler(ctx -> notAllowed(ctx, "DELETE"));
    router.get("/admin/cluster").handler(ctx -> json(ctx, 200, cluster == null ? new JsonObject().put("enabled", false)
        : cluster.describe()));
    router.get("/admin/events").handler(ctx -> json(ctx, 200, new JsonObject()
        .put("health", events.history().health()).put("failovers", events.history().failovers())
        .put("audit", events.history().audit())));
  }

  private void backends(RoutingContext ctx) {
    JsonArray list = new JsonArray();
    for (Backend b : pool.backends()) {
      list.add(new JsonObject().put("name", b.name()).put("host", b.host()).put("port", b.port())
          .put("priority", b.priority()).put("weight", b.weight()).put("mode", b.mode().key())
          .put("modeSource", b.modeSource())
          .put("state", b.state().name()).put("up", b.isUp()).put("sessions", b.sessions())
          .put("maxSessions", b.config().maxSessions()));
    }
    json(ctx, 200, new JsonObject().put("backends", list));
  }

  private void backendAction(RoutingContext ctx) {
    BackendMode mode = ACTIONS.get(ctx.pathParam("action"));
    if (mode == null) {
      guard.audit(ctx, "unknown action");
      error(ctx, 404, "Unknown action (drain, migrate, enable, disable)");
      return;
    }
    String name = ctx.pathParam("name");
    if (pool.byName(name) == null) {
      guard.audit(ctx, "not found");
      error(ctx, 404, "No backend named " + name);
      return;
    }
    // In a cluster every node applies it (cluster.md §8), and a node that restarts finds it again.
    Future<Void> applied = cluster == null ? Future.succeededFuture(pool.mode(name, mode)).mapEmpty()
        : cluster.backendModes().set(name, mode);
    applied.onComplete(ar -> {
      if (ar.failed()) {
        guard.audit(ctx, "failed");
        error(ctx, 503, "The cluster did not take the action: " + ar.cause().getMessage());
        return;
      }
      guard.audit(ctx, "ok");
      Backend b = pool.byName(name);
      json(ctx, 200, new JsonObject().put("name", name).put("mode", b.mode().key()).put("state", b.state().name()));
    });
  }

  private void sessions(RoutingContext ctx) {
    int page;
    int size;
    try {
      page = Integer.parseInt(ctx.request().params().get("page") == null ? "0" : ctx.request().params().get("page"));
      size = Integer.parseInt(ctx.request().params().get("size") == null ? "100" : ctx.request().params().get("size"));
    } catch (NumberFormatException e) {
      error(ctx, 400, "page and size must be numbers");
      return;
    }
    if (page < 0 || size < 1 || size > 1000) {
      error(ctx, 400, "page must be 0 or more and size from 1 to 1000");
      return;
    }
    String backend = ctx.request().params().get("backend");
    String user = ctx.request().params().get("user");
    Future<List<JsonObject>> tunnel = cluster == null ? SessionSnapshots.gather(vertx, config.session().instances())
        : cluster.sessions();
    tunnel.compose(t -> restListed().map(r -> {
      List<JsonObject> both = new ArrayList<>(t);
      both.addAll(r);
      return both;
    })).onComplete(ar -> {
      if (ar.failed()) {
        error(ctx, 503, "Sessions could not be listed: " + ar.cause().getMessage());
        return;
      }
      List<JsonObject> all = new ArrayList<>();
      List<JsonObject> found = ar.result();
      for (JsonObject s : found) {
        if ((backend == null || backend.equals(s.getString("backend")))
            && (user == null || user.equals(s.getString("user")))) {
          all.add(s);
        }
      }
      all.sort(Comparator.comparing(s -> s.getString("id")));
      int from = Math.min(all.size(), page * size);
      int to = Math.min(all.size(), from + size);
      json(ctx, 200, new JsonObject().put("total", all.size()).put("page", page).put("size", size)
          .put("sessions", new JsonArray(new ArrayList<>(all.subList(from, to)))));
    });
  }

  /**
   * The REST sessions to list: in a cluster, from the cluster's records, unless they cannot be read
   * within {@code suspectAfterMs} (a paused or cut-off member holds part of them, and the read waits
   * for the group to remove it); then this node's own, as a member that does not answer is left out
   * of the tunnel sessions.
   */
  private Future<List<JsonObject>> restListed() {
    if (cluster == null) {
      return rest.listed();
    }
    long within = cluster.config().suspectAfterMs();
    return rest.listed().timeout(within, TimeUnit.MILLISECONDS).recover(err -> {
      LOG.warn("the cluster's REST session records could not be read within {} ms ({}): /admin/sessions lists "
          + "this node's REST sessions only", within, err.getMessage());
      return Future.succeededFuture(rest.listedHere());
    });
  }

  private void closeSession(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    if (!SessionIds.wellFormed(id)) {
      guard.audit(ctx, "not found");
      error(ctx, 404, "No session " + id);
      return;
    }
    rest.close(id).otherwise(false).onComplete(ar -> {
      if (ar.result()) {
        guard.audit(ctx, "ok");
        json(ctx, 200, new JsonObject().put("closed", id));
      } else {
        closeTunnelSession(ctx, id);
      }
    });
  }

  /** Closes tunnel session {@code id} (on this node, or on the node that owns it). */
  private void closeTunnelSession(RoutingContext ctx, String id) {
    TunnelCommand close = TunnelCommand.operatorClose(id);  // the guard has checked the operator's role
    Future<TunnelReply> closed = vertx.eventBus().<TunnelReply>request(Addresses.session(id), close, Addresses.LOCAL)
        .map(m -> m.body());
    if (cluster != null) {
      // Owned by another node: the close goes there (as does one that failed here).
      closed = router.hereOrOwner(close, closed.otherwise(err -> TunnelReply.failed(SessionFailure.NOT_HERE, null)));
    }
    closed.onComplete(ar -> {
      if (ar.succeeded() && !ar.result().isFailure()) {
        guard.audit(ctx, "ok");
        json(ctx, 200, new JsonObject().put("closed", id));
      } else {
        guard.audit(ctx, "not found");
        error(ctx, 404, "No session " + id);
      }
    });
  }

  static void json(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .end(body.encode());
  }

  private static void notAllowed(RoutingContext ctx, String allowed) {
    ctx.response().putHeader("Allow", allowed);
    error(ctx, 405, "Method not allowed");
  }

  static void error(RoutingContext ctx, int status, String message) {
    json(ctx, status, new JsonObject().put("error", message));
  }
}
