// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.admin;

import io.dstunnel.cluster.ClusterNode;
import io.dstunnel.config.ProxyConfig;
import io.dstunnel.config.Version;
import io.dstunnel.session.Addresses;
import io.dstunnel.session.SessionCounter;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * The status page's node panel: for each node its address, state, sessions, uptime and version. A
 * single node describes itself; in a cluster each node answers for itself on
 * {@link Addresses#nodeStatus}, and a member that does not answer within
 * {@code cluster.suspectAfterMs} is listed as {@code not answering}.
 */
final class NodeStatus {

  private final Vertx vertx;
  private final ProxyConfig config;
  private final SessionCounter sessions;
  private final ClusterNode cluster;
  private final int tunnelPort;
  private final long startedAt = ManagementFactory.getRuntimeMXBean().getStartTime();

  /** {@code tunnelPort}: the port the tunnel listens on; {@code cluster}: null on a single node. */
  NodeStatus(Vertx vertx, ProxyConfig config, SessionCounter sessions, ClusterNode cluster, int tunnelPort) {
    this.vertx = vertx;
    this.config = config;
    this.sessions = sessions;
    this.cluster = cluster;
    this.tunnelPort = tunnelPort;
  }

  /** In a cluster, answers the other nodes' panels for this node; completes once registered. */
  Future<MessageConsumer<Object>> listen() {
    if (cluster == null) {
      return Future.succeededFuture();
    }
    MessageConsumer<Object> c = vertx.eventBus().consumer(Addresses.nodeStatus(cluster.id()), m -> m.reply(self()));
    return c.completion().map(c);
  }

  /** This node now. */
  JsonObject self() {
    String host = cluster != null ? cluster.config().publicHost() : config.http().host();
    JsonObject o = new JsonObject()
        .put("address", ("0.0.0.0".equals(host) || "::".equals(host) ? "*" : host) + ":" + tunnelPort)
        .put("state", sessions.draining() ? "draining" : "serving")
        .put("sessions", sessions.open())
        .put("uptimeMs", System.currentTimeMillis() - startedAt)
        .put("version", Version.current());
    if (cluster != null) {
      o.put("node", cluster.id())
          .put("member", cluster.config().publicHost() + ":" + cluster.config().publicPort());
    }
    return o;
  }

  /** What {@code /admin/nodes} answers: every node, this one marked {@code self}. */
  Future<JsonObject> all() {
    if (cluster == null) {
      return Future.succeededFuture(new JsonObject().put("clustered", false)
          .put("nodes", new JsonArray().add(self().put("self", true))));
    }
    DeliveryOptions within = new DeliveryOptions().setSendTimeout(cluster.config().suspectAfterMs());
    List<Future<JsonObject>> parts = new ArrayList<>();
    for (String member : cluster.members()) {
      if (member.equals(cluster.id())) {
        parts.add(Future.succeededFuture(self().put("self", true)));
      } else {
        parts.add(vertx.eventBus().<JsonObject>request(Addresses.nodeStatus(member), null, within)
            .map(m -> m.body().put("self", false))
            .otherwise(new JsonObject().put("node", member).put("state", "not answering").put("self", false)));
      }
    }
    return Future.join(parts).transform(v -> {
      JsonArray nodes = new JsonArray();
      parts.forEach(p -> nodes.add(p.result()));
      return Future.succeededFuture(new JsonObject().put("clustered", true).put("nodes", nodes));
    });
  }
}
