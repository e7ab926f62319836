// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.ext.cluster.infinispan.InfinispanClusterManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.infinispan.manager.EmbeddedCacheManager;
import org.infinispan.notifications.Listener;
import org.infinispan.notifications.cachemanagerlistener.annotation.Merged;
import org.infinispan.notifications.cachemanagerlistener.annotation.ViewChanged;
import org.infinispan.notifications.cachemanagerlistener.event.ViewChangedEvent;
import org.infinispan.remoting.transport.Address;

/**
 * Which members are alive: the cluster manager's view, sharpened by what the members' ports say
 * ({@link PortWatch}: a killed node's refuse at once, seconds before the cluster manager removes
 * it), and requests to a member that fail as soon as it is known gone. One per node, inside
 * {@link ClusterNode}.
 */
final class Members {

  /** How long a departure is remembered once many ids have left (longer than any wait asking for it: a day). */
  private static final long LEFT_KEPT_NANOS = 86_400_000_000_000L;

  private final Vertx vertx;
  private final ClusterManager manager;
  private final PortWatch ports;
  private final List<Consumer<String>> leftListeners = new CopyOnWriteArrayList<>();
  /** When each member last came (back) into this node's view, e.g. a healed partition's merge. */
  private final Map<String, Joined> joined = new ConcurrentHashMap<>();

  /** A member's coming into the view: when (System.nanoTime) and in which cluster manager view. */
  private record Joined(long at, int view) {
  }
  /** When each member last left this node's view (System.nanoTime). */
  private final Map<String, Long> left = new ConcurrentHashMap<>();
  /** Requests to other members not yet answered, by member: failed at once if it dies. */
  private final Map<String, Set<Runnable>> pending = new ConcurrentHashMap<>();

  Members(Vertx vertx, ClusterManager manager, PortWatch ports) {
    this.vertx = vertx;
    this.manager = manager;
    this.ports = ports;
    onMemberLeft(gone -> {
      Set<Runnable> waiting = pending.remove(gone);
      if (waiting != null) {
        waiting.forEach(Runnable::run);
      }
    });
    if (manager instanceof InfinispanClusterManager ispn) {
      ((EmbeddedCacheManager) ispn.getCacheContainer()).addListener(new ViewListener());
    }
  }

  /** The cluster manager's view changes: members that left are announced, new ones' addresses learnt. */
  @Listener
  public final class ViewListener {

    @ViewChanged
    @Merged
    public void changed(ViewChangedEvent event) {
      long now = System.nanoTime();
      for (Address a : event.getNewMembers()) {
        if (!event.getOldMembers().contains(a)) {
          if (joined.size() >= 256) {
            joined.keySet().retainAll(manager.getNodes());  // bounded: a long-lived cluster sees many ids
          }
          joined.put(a.toString(), new Joined(now, event.getViewId()));
          ports.rejoined(a.toString());
          ports.learnAddress(a.toString());
        }
      }
      for (Address a : event.getOldMembers()) {
        if (!event.getNewMembers().contains(a)) {
          String gone = a.toString();
          if (left.size() >= 256) {
            left.values().removeIf(at -> now - at > LEFT_KEPT_NANOS);  // bounded: a long-lived cluster sees many ids
          }
          left.put(gone, now);
          leftListeners.forEach(l -> l.accept(gone));
        }
      }
    }
  }

  /**
   * When member {@code nodeId} last came into this node's view (System.nanoTime; 0 if it was there
   * from the start): after a partition heals, its silence during the split is no longer news.
   */
  long joinedAt(String nodeId) {
    Joined j = joined.get(nodeId);
    return j == null ? 0L : j.at();
  }

  /** The id of the cluster manager view member {@code nodeId} last came (back) into; -1 if there from the start. */
  int joinedInView(String nodeId) {
    Joined j = joined.get(nodeId);
    return j == null ? -1 : j.view();
  }

  /**
   * The members that left this node's view less than {@code ms} ago and are not back (whether
   * dead or only out of reach: see {@link PortWatch#refuses}).
   */
  List<String> leftWithin(long ms) {
    long now = System.nanoTime();
    return left.entrySet().stream()
        .filter(e -> now - e.getValue() < ms * 1_000_000L && !manager.getNodes().contains(e.getKey()))
        .map(Map.Entry::getKey).toList();
  }

  /** When member {@code nodeId} last left this node's view (System.nanoTime; 0 if it never did). */
  long leftAt(String nodeId) {
    return left.getOrDefault(nodeId, 0L);
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
    long now = System.nanoTime();
    nodes.removeIf(id -> ports.refusedRecently(id, now));
    nodes.sort(null);
    return nodes;
  }

  /** Whether {@code nodeId} is among {@link #members()} (without building the list: asked per forward). */
  boolean isMember(String nodeId) {
    return manager.getNodes().contains(nodeId) && !ports.refusedRecently(nodeId, System.nanoTime());
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
        ports.refuses(nodeId).onSuccess(dead -> {
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
