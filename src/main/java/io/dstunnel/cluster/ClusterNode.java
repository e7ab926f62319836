package io.dstunnel.cluster;

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
import io.vertx.core.spi.cluster.ClusterManager;
import java.util.ArrayList;
import java.util.List;
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
  private final Members members;

  public ClusterNode(Vertx vertx, ClusterConfig config, ClusterMetrics metrics) {
    this.vertx = vertx;
    this.manager = ((VertxInternal) vertx).clusterManager();
    this.config = config;
    this.metrics = metrics;
    this.directory = new Directory(vertx);
    this.members = new Members(vertx, manager);
    // The session verticles hear of it on their own threads (a relayed answer may be taken back).
    onMemberLeft(gone -> vertx.eventBus().publish(Addresses.MEMBER_LEFT, gone, Addresses.LOCAL));
    vertx.eventBus().registerDefaultCodec(CopyOp.class, new CopyOpCodec());
  }

  /** Whether member {@code nodeId}'s process is gone: its cluster port refuses (see {@link Members#refuses}). */
  Future<Boolean> refuses(String nodeId) {
    return members.refuses(nodeId);
  }

  /** Whether {@code nodeId} left this node's view but still runs: a split (see {@link Members#apart}). */
  Future<Boolean> apart(String nodeId) {
    return members.apart(nodeId);
  }

  /** Calls {@code listener} (on a cluster manager thread) with the id of each member that leaves or dies. */
  void onMemberLeft(Consumer<String> listener) {
    members.onMemberLeft(listener);
  }

  /** The members now, this node included, in a stable order (see {@link Members#members}). */
  public List<String> members() {
    return members.members();
  }

  boolean isMember(String nodeId) {
    return members.isMember(nodeId);
  }

  /** A request to member {@code nodeId} that fails as soon as it is known gone (see {@link Members#request}). */
  <T> Future<T> request(String nodeId, String address, Object msg, DeliveryOptions options) {
    return members.request(nodeId, address, msg, options);
  }

  public String id() {
    return manager.getNodeId();
  }

  /**
   * How long a request waits for a split of the cluster to heal, on either side (an owner whose
   * copy holder is apart, a node cut off from a session's owner): 10 × {@code suspectAfterMs}.
   */
  long splitWaitMs() {
    return config.suspectAfterMs() * 10;
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

  /**
   * The {@code cluster.backups} other members to hold the copy of session {@code sessionId}, in
   * member order from a place the session id decides: a node's copies are spread over the other
   * members, so its death makes each of them adopt a share, not one of them every session.
   */
  List<String> pickBackups(String sessionId) {
    List<String> others = members();
    others.remove(id());
    int start = others.isEmpty() ? 0 : Math.floorMod(sessionId.hashCode(), others.size());
    List<String> picked = new ArrayList<>();
    for (int i = 0; i < others.size() && picked.size() < config.backups(); i++) {
      picked.add(others.get((start + i) % others.size()));
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
    return this.<CopyOp>request(nodeId, address, op, within(timeoutMs))
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
