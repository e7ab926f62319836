// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import io.dstunnel.config.ClusterConfig;
import io.dstunnel.session.Addresses;
import io.dstunnel.session.SessionSnapshots;
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
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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
  private final ClusterTimings timings;
  private final BackendModes backendModes;
  private static final String LEAVING = "dstunnel.cluster.leaving";
  /** How often this node probes every other member's port ({@link PortWatch#watch}). */
  private static final long WATCH_MS = 1000;
  /** Members that said they are leaving, until they are gone. */
  private final Set<String> leaving = ConcurrentHashMap.newKeySet();
  private final Directory directory;
  private final ClusterMetrics metrics;
  private final PortWatch ports;
  private final Members members;

  /** {@code idleTimeoutMs}: the sessions' idle timeout, which their copies and records follow. */
  public ClusterNode(Vertx vertx, ClusterConfig config, ClusterMetrics metrics, long idleTimeoutMs,
                     BackendModes backendModes) {
    this.timings = new ClusterTimings(config.suspectAfterMs(), idleTimeoutMs);
    this.backendModes = backendModes;
    this.vertx = vertx;
    this.manager = ((VertxInternal) vertx).clusterManager();
    this.config = config;
    this.metrics = metrics;
    this.directory = new Directory(vertx, timings.forgetAfterMs());
    this.ports = new PortWatch(vertx, manager, ClusterSetup.probeOptions(config.secret()));
    this.members = new Members(vertx, manager, ports);
    // The session verticles hear of it on their own threads (a relayed answer may be taken back).
    onMemberLeft(gone -> vertx.eventBus().publish(Addresses.MEMBER_LEFT, gone, Addresses.LOCAL));
    vertx.eventBus().registerDefaultCodec(CopyOp.class, new CopyOpCodec());
    vertx.eventBus().registerDefaultCodec(CopyBundle.class, new CopyBundle.Codec());
    vertx.eventBus().<String>consumer(LEAVING, msg -> leaving.add(msg.body()));
    // A killed member out of the cluster manager's group in seconds, not after its missed
    // heartbeats: every node watches every other's port, and has the group verify one that refuses.
    if (manager instanceof MergingClusterManager m) {
      ports.onRefused(dead -> {
        if (!leaving.contains(dead)) {  // a leaving node closes its ports before it leaves the group
          vertx.executeBlocking(() -> {
            m.suspect(dead);
            return null;
          }, false);
        }
      });
      vertx.setPeriodic(WATCH_MS, t -> ports.watch());
    }
    onMemberLeft(leaving::remove);
    onMemberLeft(gone -> {
      long departure = members.leftAt(gone);
      directory.ownerLeft(gone, () -> members.leftAt(gone) == departure && !isMember(gone));
    });
  }

  /** Whether member {@code nodeId}'s process is gone: its cluster port refuses (see {@link PortWatch#refuses}). */
  Future<Boolean> refuses(String nodeId) {
    return ports.refuses(nodeId);
  }

  /** What member {@code nodeId}'s cluster port says now (see {@link PortWatch#state}). */
  Future<PortProbe.State> portState(String nodeId) {
    return ports.state(nodeId);
  }

  /** What member {@code nodeId}'s cluster port says after {@code since} (see {@link PortWatch#portAfter}). */
  Future<PortProbe.State> portAfter(String nodeId, long since) {
    return ports.portAfter(nodeId, since);
  }

  /** Calls {@code listener} (on a cluster manager thread) with the id of each member that leaves or dies. */
  void onMemberLeft(Consumer<String> listener) {
    members.onMemberLeft(listener);
  }

  /** The members now, this node included, in a stable order (see {@link Members#members}). */
  public List<String> members() {
    return members.members();
  }

  /** The members that left this node's view less than {@code ms} ago and are not back (see {@link Members#leftWithin}). */
  List<String> leftWithin(long ms) {
    return members.leftWithin(ms);
  }

  /** When member {@code nodeId} last left this node's view (see {@link Members#leftAt}). */
  long leftAt(String nodeId) {
    return members.leftAt(nodeId);
  }

  boolean isMember(String nodeId) {
    return members.isMember(nodeId);
  }

  /** The cluster manager view member {@code nodeId} last came into (see {@link Members#joinedInView}). */
  int joinedInView(String nodeId) {
    return members.joinedInView(nodeId);
  }

  /** The id of the cluster manager's view this node is in now (-1 if not known). */
  int viewId() {
    return manager instanceof MergingClusterManager m ? m.viewId() : -1;
  }

  /** When member {@code nodeId} last came into this node's view (see {@link Members#joinedAt}). */
  long joinedAt(String nodeId) {
    return members.joinedAt(nodeId);
  }

  /** The members that are not leaving (SIGTERM): where copies and hand-overs go. */
  List<String> staying() {
    List<String> all = members();
    all.removeIf(leaving::contains);
    return all;
  }

  /** Whether member {@code nodeId} said it is leaving: it takes no copies and no hand-overs. */
  boolean isLeaving(String nodeId) {
    return leaving.contains(nodeId);
  }

  /**
   * This node is leaving (SIGTERM): every member hears it, and moves its copies off this node;
   * nodes that leave together hand their sessions to the nodes that stay (cluster.md §5).
   */
  public void leave() {
    leaving.add(id());
    vertx.eventBus().publish(LEAVING, id());
  }

  /** A request to member {@code nodeId} that fails as soon as it is known gone (see {@link Members#request}). */
  <T> Future<T> request(String nodeId, String address, Object msg, DeliveryOptions options) {
    return members.request(nodeId, address, msg, options);
  }

  public String id() {
    return manager.getNodeId();
  }

  /** How long the cluster's waits are, from {@code suspectAfterMs} and the sessions' idle timeout. */
  public ClusterTimings timings() {
    return timings;
  }


  /** The operators' backend actions, for the whole cluster. */
  public BackendModes backendModes() {
    return backendModes;
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

  /** Copies of other nodes' sessions held here now (kept by the {@link CopyKeeper}). */
  final AtomicInteger copiesHeld = new AtomicInteger();

  /** What {@code /admin/cluster} shows. */
  public JsonObject describe() {
    return new JsonObject().put("enabled", true).put("name", config.name()).put("node", id())
        .put("members", new JsonArray(members())).put("backups", config.backups())
        .put("suspectAfterMs", config.suspectAfterMs()).put("copiesHeld", copiesHeld.get())
        .put("sessionRecords", directory.known());
  }

  /**
   * The sessions of this node's {@code sessionVerticles} session verticles, each with this node's
   * id, as {@link #sessions()} gathers them from every member (none, when they do not answer).
   */
  Future<JsonArray> sessionsHere(int sessionVerticles) {
    return SessionSnapshots.gather(vertx, sessionVerticles).transform(ar -> {
      JsonArray list = new JsonArray();
      if (ar.succeeded()) {
        ar.result().forEach(s -> list.add(s.put("node", id())));
      }
      return Future.succeededFuture(list);
    });
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
    return pickBackups(sessionId, null);
  }

  /** As {@link #pickBackups(String)}, never {@code not}. */
  List<String> pickBackups(String sessionId, String not) {
    List<String> others = staying();
    others.remove(id());
    others.remove(not);
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

  /**
   * Asks node {@code nodeId}'s copy keeper to take a bundle of steps ({@link CopyBundler}); its
   * answers come in the same order. Fails with "no handlers" on a member that takes no bundles.
   */
  Future<CopyBundle> askAll(String nodeId, CopyBundle bundle, long timeoutMs) {
    return request(nodeId, Addresses.copyBundles(nodeId), bundle, within(timeoutMs));
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
