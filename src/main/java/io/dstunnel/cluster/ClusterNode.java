package io.dstunnel.cluster;

import com.hazelcast.cluster.Address;
import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import io.dstunnel.config.ClusterConfig;
import io.dstunnel.session.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.ConnectOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.net.ConnectException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

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
  /** A member whose cluster port refused this recently is taken for gone (Hazelcast takes seconds more). */
  private static final long REFUSED_KEPT_NANOS = 10_000_000_000L;
  private final NetClient prober;
  private final Map<String, Probe> probes = new ConcurrentHashMap<>();
  /** Addresses of members that left this node's view (a split, a restart), kept for {@link #refuses}. */
  private final Map<String, Address> addresses = new ConcurrentHashMap<>();
  private final List<Consumer<String>> leftListeners = new CopyOnWriteArrayList<>();

  public ClusterNode(Vertx vertx, ClusterConfig config, ClusterMetrics metrics) {
    this.vertx = vertx;
    this.manager = ((VertxInternal) vertx).clusterManager();
    this.config = config;
    this.metrics = metrics;
    this.directory = new Directory(vertx);
    this.prober = vertx.createNetClient();
    // The session verticles hear of it on their own threads (a relayed answer may be taken back).
    onMemberLeft(gone -> vertx.eventBus().publish(Addresses.MEMBER_LEFT, gone, Addresses.LOCAL));
    vertx.eventBus().registerDefaultCodec(CopyOp.class, new CopyOpCodec());
    if (manager instanceof HazelcastClusterManager hz) {
      hz.getHazelcastInstance().getCluster().addMembershipListener(new MembershipListener() {
        @Override
        public void memberAdded(MembershipEvent event) {
        }

        @Override
        public void memberRemoved(MembershipEvent event) {
          String gone = nodeIdOf(event.getMember());
          if (addresses.size() >= 256) {
            addresses.clear();  // bounded: a long-lived cluster sees many node ids come and go
          }
          addresses.put(gone, event.getMember().getAddress());
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
    Address address = memberAddress(nodeId);
    if (address == null) {
      return Future.succeededFuture(false);
    }
    if (takenOver(nodeId, address)) {
      return Future.succeededFuture(true);  // restarted: its address is a new member's now
    }
    Future<Boolean> result = prober.connect(new ConnectOptions().setHost(address.getHost())
            .setPort(address.getPort()).setTimeout(1000))
        .map(socket -> {
          socket.close();
          return false;
        })
        .otherwise(err -> err instanceof ConnectException
            || String.valueOf(err.getMessage()).contains("refused"));
    probes.put(nodeId, new Probe(now, result));
    return result;
  }

  private record Probe(long at, Future<Boolean> result) {

    /** Whether this probe found the port refusing, less than {@link #REFUSED_KEPT_NANOS} ago. */
    boolean refusedRecently(long now) {
      return now - at < REFUSED_KEPT_NANOS && result.isComplete() && result.succeeded() && result.result();
    }
  }

  /**
   * Whether {@code nodeId} has left this node's view while its process still accepts connections:
   * it is on the other side of a split of the cluster (or paused past its removal), not dead.
   */
  Future<Boolean> apart(String nodeId) {
    return isMember(nodeId) ? Future.succeededFuture(false) : refuses(nodeId).map(gone -> !gone);
  }

  /** Whether another member now has the address that member {@code nodeId} had. */
  private boolean takenOver(String nodeId, Address address) {
    return manager instanceof HazelcastClusterManager hz && hz.getHazelcastInstance().getCluster().getMembers()
        .stream().anyMatch(m -> address.equals(m.getAddress()) && !nodeId.equals(nodeIdOf(m)));
  }

  /** A member's address, or a former member's (one that left this node's view may still be running). */
  private Address memberAddress(String nodeId) {
    if (!(manager instanceof HazelcastClusterManager hz)) {
      return null;
    }
    for (Member m : hz.getHazelcastInstance().getCluster().getMembers()) {
      if (nodeId.equals(nodeIdOf(m))) {
        return m.getAddress();
      }
    }
    return addresses.get(nodeId);
  }

  /**
   * The Vert.x node id of a Hazelcast member: vertx-hazelcast gives each node a random id of its
   * own, kept as a member attribute (not the member's UUID).
   */
  private static String nodeIdOf(Member m) {
    String id = m.getAttribute(VERTX_NODE_ID);
    return id != null ? id : m.getUuid().toString();
  }

  /** Calls {@code listener} (on a cluster manager thread) with the id of each member that leaves or dies. */
  void onMemberLeft(Consumer<String> listener) {
    leftListeners.add(listener);
  }

  public String id() {
    return manager.getNodeId();
  }

  /**
   * The members now, this node included, in a stable order: the cluster manager's, less those
   * whose cluster port was found refusing in the last ten seconds (killed, though the cluster
   * manager has not removed them yet). Forwards, claims and new copies all go by this list.
   */
  public List<String> members() {
    List<String> nodes = new ArrayList<>(manager.getNodes());
    if (!probes.isEmpty()) {
      long now = System.nanoTime();
      nodes.removeIf(id -> refusedRecently(id, now));
    }
    nodes.sort(null);
    return nodes;
  }

  /** Whether {@code nodeId} is among {@link #members()} (without building the list: asked per forward). */
  boolean isMember(String nodeId) {
    return manager.getNodes().contains(nodeId) && !refusedRecently(nodeId, System.nanoTime());
  }

  private boolean refusedRecently(String nodeId, long now) {
    Probe p = probes.get(nodeId);
    return p != null && p.refusedRecently(now);
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
  final AtomicInteger copiesHeld = new AtomicInteger();

  /** What {@code /admin/cluster} shows. */
  public JsonObject describe() {
    return new JsonObject().put("enabled", true).put("name", config.name()).put("node", id())
        .put("members", new JsonArray(members())).put("backups", config.backups())
        .put("suspectAfterMs", config.suspectAfterMs()).put("copiesHeld", copiesHeld.get());
  }

  /**
   * The sessions of every member that answers within {@code suspectAfterMs}, each with the node
   * that owns it (a paused or dying member's are left out, not the whole list).
   */
  public Future<List<JsonObject>> sessions() {
    List<Future<JsonArray>> parts = new ArrayList<>();
    for (String member : members()) {
      parts.add(vertx.eventBus().<JsonArray>request(Addresses.nodeSessions(member), null, suspect())
          .map(m -> m.body()).otherwise(new JsonArray()));
    }
    return Future.all(parts).map(v -> {
      List<JsonObject> all = new ArrayList<>();
      parts.forEach(p -> p.result().forEach(o -> all.add((JsonObject) o)));
      return all;
    });
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

  /**
   * Asks node {@code nodeId}'s copy keeper; gives up after {@code timeoutMs}. "No handlers" is
   * retried within that time while the node is a member: one that just joined may not have its
   * address known yet here (one that left never will).
   */
  Future<CopyOp> ask(String nodeId, CopyOp op, long timeoutMs) {
    long deadline = System.nanoTime() + timeoutMs * 1_000_000;
    return ask(nodeId, Addresses.copies(nodeId), op, timeoutMs, deadline);
  }

  /** Delivery to another node, taken for lost after {@code timeoutMs}. */
  static DeliveryOptions within(long timeoutMs) {
    return new DeliveryOptions().setSendTimeout(timeoutMs);
  }

  private Future<CopyOp> ask(String nodeId, String address, CopyOp op, long timeoutMs, long deadline) {
    return vertx.eventBus().<CopyOp>request(address, op, within(timeoutMs))
        .map(m -> m.body())
        .recover(err -> {
          long left = (deadline - System.nanoTime()) / 1_000_000;
          if (err instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS && left > 100
              && isMember(nodeId)) {
            return vertx.timer(100).compose(v -> ask(nodeId, address, op, left - 100, deadline));
          }
          return Future.failedFuture(err);
        });
  }

  /** Delivery to another node that counts as lost after {@code cluster.suspectAfterMs}. */
  DeliveryOptions suspect() {
    return within(config.suspectAfterMs());
  }
}
