package io.dstunnel.cluster;

import io.dstunnel.config.ClusterConfig;
import io.vertx.core.Future;
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

  /** The member attribute in which vertx-hazelcast keeps a member's Vert.x node id. */
  private static final String VERTX_NODE_ID = "__vertx.nodeId";
  private final io.vertx.core.net.NetClient prober;
  private final java.util.Map<String, Probe> probes = new java.util.concurrent.ConcurrentHashMap<>();
  private final java.util.List<java.util.function.Consumer<String>> leftListeners =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  public ClusterNode(Vertx vertx, ClusterConfig config, ClusterMetrics metrics) {
    this.vertx = vertx;
    this.manager = ((VertxInternal) vertx).clusterManager();
    this.config = config;
    this.metrics = metrics;
    this.directory = new Directory(vertx);
    this.prober = vertx.createNetClient();
    vertx.eventBus().registerDefaultCodec(CopyOp.class, new CopyOpCodec());
    if (manager instanceof io.vertx.spi.cluster.hazelcast.HazelcastClusterManager hz) {
      hz.getHazelcastInstance().getCluster().addMembershipListener(new com.hazelcast.cluster.MembershipListener() {
        @Override
        public void memberAdded(com.hazelcast.cluster.MembershipEvent event) {
        }

        @Override
        public void memberRemoved(com.hazelcast.cluster.MembershipEvent event) {
          String gone = nodeIdOf(event.getMember());
          leftListeners.forEach(l -> l.accept(gone));
        }
      });
    }
  }

  /**
   * Whether member {@code nodeId}'s cluster port refuses connections: its process is gone (a
   * killed node's ports close at once; the cluster manager notices only after missed heartbeats).
   * A paused or slow node still accepts: false. Asked at most once per member per half second.
   */
  Future<Boolean> refuses(String nodeId) {
    long now = System.nanoTime();
    Probe last = probes.get(nodeId);
    if (last != null && now - last.at < 500_000_000L) {
      return last.result;
    }
    com.hazelcast.cluster.Address address = memberAddress(nodeId);
    if (address == null) {
      return Future.succeededFuture(false);
    }
    Future<Boolean> result = prober.connect(new io.vertx.core.net.ConnectOptions().setHost(address.getHost())
            .setPort(address.getPort()).setTimeout(1000))
        .map(socket -> {
          socket.close();
          return false;
        })
        .otherwise(err -> err instanceof java.net.ConnectException
            || String.valueOf(err.getMessage()).contains("refused"));
    probes.put(nodeId, new Probe(now, result));
    return result;
  }

  private record Probe(long at, Future<Boolean> result) {
  }

  private com.hazelcast.cluster.Address memberAddress(String nodeId) {
    if (!(manager instanceof io.vertx.spi.cluster.hazelcast.HazelcastClusterManager hz)) {
      return null;
    }
    for (com.hazelcast.cluster.Member m : hz.getHazelcastInstance().getCluster().getMembers()) {
      if (nodeId.equals(nodeIdOf(m))) {
        return m.getAddress();
      }
    }
    return null;
  }

  /**
   * The Vert.x node id of a Hazelcast member: vertx-hazelcast gives each node a random id of its
   * own, kept as a member attribute (not the member's UUID).
   */
  private static String nodeIdOf(com.hazelcast.cluster.Member m) {
    String id = m.getAttribute(VERTX_NODE_ID);
    return id != null ? id : m.getUuid().toString();
  }

  /** Calls {@code listener} (on a cluster manager thread) with the id of each member that leaves or dies. */
  void onMemberLeft(java.util.function.Consumer<String> listener) {
    leftListeners.add(listener);
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

  /** Copies of other nodes' sessions held here now (kept by the {@link ClusterVerticle}). */
  final java.util.concurrent.atomic.AtomicInteger copiesHeld = new java.util.concurrent.atomic.AtomicInteger();

  /** What {@code /admin/cluster} shows. */
  public io.vertx.core.json.JsonObject describe() {
    return new io.vertx.core.json.JsonObject().put("enabled", true).put("name", config.name()).put("node", id())
        .put("members", new io.vertx.core.json.JsonArray(members())).put("backups", config.backups())
        .put("suspectAfterMs", config.suspectAfterMs()).put("copiesHeld", copiesHeld.get());
  }

  /** The sessions of every member, each with the node that owns it. */
  public Future<List<io.vertx.core.json.JsonObject>> sessions() {
    List<io.vertx.core.Future<io.vertx.core.json.JsonArray>> parts = new ArrayList<>();
    for (String member : members()) {
      parts.add(vertx.eventBus().<io.vertx.core.json.JsonArray>request(
          io.dstunnel.session.Addresses.nodeSessions(member), null, suspect()).map(m -> m.body()));
    }
    return io.vertx.core.Future.join(parts).map(v -> {
      List<io.vertx.core.json.JsonObject> all = new ArrayList<>();
      parts.stream().filter(io.vertx.core.Future::succeeded)
          .forEach(p -> p.result().forEach(o -> all.add((io.vertx.core.json.JsonObject) o)));
      return all;
    });
  }

  /** The {@code cluster.backups} other members that follow this node in the member order. */
  /**
   * The members less those whose cluster port was found refusing in the last ten seconds: killed,
   * though the cluster manager has not removed them yet. New copies go to these.
   */
  List<String> liveMembers() {
    List<String> nodes = members();
    nodes.removeIf(id -> {
      Probe p = probes.get(id);
      return p != null && System.nanoTime() - p.at < 10_000_000_000L && p.result.isComplete()
          && p.result.succeeded() && p.result.result();
    });
    return nodes;
  }

  List<String> pickBackups() {
    List<String> nodes = liveMembers();
    if (!nodes.contains(id())) {
      nodes = members();
    }
    String me = id();
    int at = nodes.indexOf(me);
    List<String> picked = new ArrayList<>();
    for (int i = 1; i < nodes.size() && picked.size() < config.backups(); i++) {
      picked.add(nodes.get((at + i + nodes.size()) % nodes.size()));
    }
    return picked;
  }

  /**
   * Asks node {@code nodeId}'s copy keeper; gives up after {@code timeoutMs}. "No handlers" is
   * retried within that time while the node is a member: one that just joined may not have its
   * address known yet here (one that left never will).
   */
  Future<CopyOp> ask(String nodeId, CopyOp op, long timeoutMs) {
    long deadline = System.nanoTime() + timeoutMs * 1_000_000;
    return ask(nodeId, io.dstunnel.session.Addresses.copies(nodeId), op, timeoutMs, deadline);
  }

  /** Delivery to node {@code nodeId}'s addresses, taken for lost after {@code timeoutMs}. */
  DeliveryOptions to(String nodeId, long timeoutMs) {
    return new DeliveryOptions().setSendTimeout(timeoutMs);
  }

  private Future<CopyOp> ask(String nodeId, String address, CopyOp op, long timeoutMs, long deadline) {
    return vertx.eventBus().<CopyOp>request(address, op, to(nodeId, timeoutMs))
        .map(m -> m.body())
        .recover(err -> {
          long left = (deadline - System.nanoTime()) / 1_000_000;
          if (err instanceof io.vertx.core.eventbus.ReplyException re
              && re.failureType() == io.vertx.core.eventbus.ReplyFailure.NO_HANDLERS && left > 100
              && members().contains(nodeId)) {
            return vertx.timer(100).compose(v -> ask(nodeId, address, op, left - 100, deadline));
          }
          return Future.failedFuture(err);
        });
  }

  /** Delivery to another node that counts as lost after {@code cluster.suspectAfterMs}. */
  DeliveryOptions suspect() {
    return new DeliveryOptions().setSendTimeout(config.suspectAfterMs());
  }
}
