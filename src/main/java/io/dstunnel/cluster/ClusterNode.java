package io.dstunnel.cluster;

import io.dstunnel.config.ClusterConfig;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.spi.cluster.ClusterManager;
import java.util.ArrayList;
import java.util.List;

/**
 * This node in the cluster: its id, the members as the cluster manager sees them, the settings,
 * and the directory of sessions. One per node, shared by its verticles.
 */
public final class ClusterNode {

  private final Vertx vertx;
  private final ClusterManager manager;
  private final ClusterConfig config;
  private final Directory directory;
  private final ClusterMetrics metrics;

  public ClusterNode(Vertx vertx, ClusterConfig config, ClusterMetrics metrics) {
    this.vertx = vertx;
    this.manager = ((VertxInternal) vertx).clusterManager();
    this.config = config;
    this.metrics = metrics;
    this.directory = new Directory(vertx);
    vertx.eventBus().registerDefaultCodec(CopyOp.class, new CopyOpCodec());
  }

  public String id() {
    return manager.getNodeId();
  }

  /** The members now, this node included, in a stable order. */
  public List<String> members() {
    List<String> nodes = new ArrayList<>(manager.getNodes());
    nodes.sort(null);
    return nodes;
  }

  public ClusterConfig config() {
    return config;
  }

  public ClusterMetrics metrics() {
    return metrics;
  }

  Vertx vertx() {
    return vertx;
  }

  Directory directory() {
    return directory;
  }

  /** The {@code cluster.backups} other members that follow this node in the member order. */
  List<String> pickBackups() {
    List<String> nodes = members();
    String me = id();
    int at = nodes.indexOf(me);
    List<String> picked = new ArrayList<>();
    for (int i = 1; i < nodes.size() && picked.size() < config.backups(); i++) {
      picked.add(nodes.get((at + i + nodes.size()) % nodes.size()));
    }
    return picked;
  }

  /** Delivery to another node that counts as lost after {@code cluster.suspectAfterMs}. */
  DeliveryOptions suspect() {
    return new DeliveryOptions().setSendTimeout(config.suspectAfterMs());
  }
}
