// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import com.hazelcast.cluster.Address;
import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Which members are alive: the cluster manager's view, sharpened by what the members' ports say
 * (a killed node's refuse at once, seconds before the cluster manager removes it), and requests to
 * a member that fail as soon as it is known gone. One per node, inside {@link ClusterNode}.
 */
final class Members {

  private final Vertx vertx;
  private final ClusterManager manager;
  /** The member attribute in which vertx-hazelcast keeps a member's Vert.x node id. */
  private static final String VERTX_NODE_ID = "__vertx.nodeId";
  /** A member whose cluster port refused this recently is taken for gone (Hazelcast takes seconds more). */
  private static final long REFUSED_KEPT_NANOS = 10_000_000_000L;
  private final NetClient prober;
  private final Map<String, Probe> probes = new ConcurrentHashMap<>();
  /** Addresses of members that left this node's view (a split, a restart), kept for {@link #refuses}. */
  private final Map<String, Address> addresses = new ConcurrentHashMap<>();
  private final List<Consumer<String>> leftListeners = new CopyOnWriteArrayList<>();
  /** Requests to other members not yet answered, by member: failed at once if it dies. */
  private final Map<String, Set<Runnable>> pending = new ConcurrentHashMap<>();

  Members(Vertx vertx, ClusterManager manager) {
    this.vertx = vertx;
    this.manager = manager;
    this.prober = vertx.createNetClient();
    onMemberLeft(gone -> {
      Set<Runnable> waiting = pending.remove(gone);
      if (waiting != null) {
        waiting.forEach(Runnable::run);
      }
    });
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
    Future<Boolean> result = PortProbe.refuses(prober, address.getHost(), address.getPort());
    probes.put(nodeId, new Probe(now, result));
    return result;
  }

  private record Probe(long at, Future<Boolean> result) {

    /** Whether this probe found the port refusing, less than {@link #REFUSED_KEPT_NANOS} ago. */
    boolean refusedRecently(long now) {
      return now - at < REFUSED_KEPT_NANOS && result.isComplete() && result.succeeded() && result.result();
    }
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

  /**
   * The members now, this node included, in a stable order: the cluster manager's, less those
   * whose cluster port was found refusing in the last ten seconds (killed, though the cluster
   * manager has not removed them yet). Forwards, claims and new copies all go by this list.
   */
  List<String> members() {
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

  /**
   * Sends {@code msg} to {@code address} on member {@code nodeId}, and fails as soon as that member
   * is known to be gone, not only after the options' timeout: the cluster manager says it left,
   * or (unanswered after a moment) its cluster port refuses connections, as a killed node's does
   * at once.
   */
  <T> Future<T> request(String nodeId, String address, Object msg, DeliveryOptions options) {
    if (!isMember(nodeId)) {
      return Future.failedFuture("node " + nodeId + " is not a member");
    }
    Context context = vertx.getOrCreateContext();
    Promise<T> answer = Promise.promise();
    Runnable gone = () -> context.runOnContext(v -> answer.tryFail("node " + nodeId + " left"));
    pending.computeIfAbsent(nodeId, k -> ConcurrentHashMap.newKeySet()).add(gone);
    long probe = vertx.setTimer(Math.max(50, Math.min(300, options.getSendTimeout() / 4)), t -> {
      if (!answer.future().isComplete()) {
        refuses(nodeId).onSuccess(dead -> {
          if (dead) {
            gone.run();
          }
        });
      }
    });
    vertx.eventBus().<T>request(address, msg, options).onComplete(ar -> {
      vertx.cancelTimer(probe);
      Set<Runnable> waiting = pending.get(nodeId);
      if (waiting != null) {
        waiting.remove(gone);
      }
      if (ar.succeeded()) {
        answer.tryComplete(ar.result().body());
      } else {
        answer.tryFail(ar.cause());
      }
    });
    return answer.future();
  }
}
