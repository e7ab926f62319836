// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.core.spi.cluster.NodeInfo;
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
 * (a killed node's refuse at once, seconds before the cluster manager removes it), and requests to
 * a member that fail as soon as it is known gone. One per node, inside {@link ClusterNode}.
 */
final class Members {

  private final Vertx vertx;
  private final ClusterManager manager;
  /** A member whose event-bus port refused this recently is taken for gone (JGroups takes seconds more). */
  private static final long REFUSED_KEPT_NANOS = 10_000_000_000L;
  private final NetClient prober;
  /** Whether a probe completes the cluster's TLS handshake (there is a key): then its success proves a live node. */
  private final boolean probesHandshake;
  private final Map<String, Probe> probes = new ConcurrentHashMap<>();
  /** When a probe last found each member's port refusing (a later probe under way does not bring it back). */
  private final Map<String, Long> refusedAt = new ConcurrentHashMap<>();
  /**
   * The event-bus address each member advertised, kept after it leaves this node's view (a split, a
   * restart) for {@link #refuses}: the cluster manager forgets a gone member's address.
   */
  private final Map<String, SocketAddress> addresses = new ConcurrentHashMap<>();
  private final List<Consumer<String>> leftListeners = new CopyOnWriteArrayList<>();
  private final List<Consumer<String>> refusedListeners = new CopyOnWriteArrayList<>();
  /** When the listeners last heard that each member refuses. */
  private final Map<String, Long> refusedTold = new ConcurrentHashMap<>();
  private static final long REFUSED_TOLD_NANOS = 2_000_000_000L;
  /** When each member last came (back) into this node's view (System.nanoTime), e.g. a healed partition's merge. */
  private final Map<String, Long> joinedAt = new ConcurrentHashMap<>();
  /** Requests to other members not yet answered, by member: failed at once if it dies. */
  private final Map<String, Set<Runnable>> pending = new ConcurrentHashMap<>();

  /** {@code probes}: how a probe connects to a member's event-bus port (with its TLS, when the cluster has a key). */
  Members(Vertx vertx, ClusterManager manager, NetClientOptions probes) {
    this.vertx = vertx;
    this.manager = manager;
    this.prober = vertx.createNetClient(probes);
    this.probesHandshake = probes.isSsl();
    onMemberLeft(gone -> {
      Set<Runnable> waiting = pending.remove(gone);
      if (waiting != null) {
        waiting.forEach(Runnable::run);
      }
    });
    if (manager instanceof InfinispanClusterManager ispn) {
      ((EmbeddedCacheManager) ispn.getCacheContainer()).addListener(new ViewListener());
    }
    manager.getNodes().forEach(this::learnAddress);
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
          joinedAt.put(a.toString(), now);
          learnAddress(a.toString());
        }
      }
      for (Address a : event.getOldMembers()) {
        if (!event.getNewMembers().contains(a)) {
          String gone = a.toString();
          leftListeners.forEach(l -> l.accept(gone));
        }
      }
    }
  }

  /** Remembers where member {@code nodeId}'s event bus listens (asked of the cluster manager once). */
  private Future<SocketAddress> learnAddress(String nodeId) {
    SocketAddress known = addresses.get(nodeId);
    if (known != null) {
      return Future.succeededFuture(known);
    }
    Promise<NodeInfo> info = Promise.promise();
    manager.getNodeInfo(nodeId, info);
    return info.future().map(i -> {
      if (i == null) {
        return null;
      }
      if (addresses.size() >= 256) {
        addresses.keySet().retainAll(manager.getNodes());  // bounded: a long-lived cluster sees many ids
      }
      SocketAddress address = SocketAddress.inetSocketAddress(i.port(), i.host());
      addresses.put(nodeId, address);
      return address;
    }).otherwise((SocketAddress) null);
  }

  /**
   * Whether member {@code nodeId}'s event-bus port refuses connections: its process is gone (a
   * killed node's ports close at once; the cluster manager notices only after missed heartbeats).
   * A paused or slow node still accepts: false. Asked at most once per member per half second, and
   * never while a probe of it is under way.
   */
  Future<Boolean> refuses(String nodeId) {
    long now = System.nanoTime();
    Probe probe = probes.compute(nodeId, (k, last) -> last != null
        && (now - last.at < 500_000_000L || !last.result.isComplete()) ? last : probe(nodeId, now));
    return onCallersContext(probe.result).map(s -> s == PortProbe.State.REFUSES);
  }

  /**
   * What member {@code nodeId}'s event-bus port says in a probe begun after {@code since}
   * (System.nanoTime). With the cluster's key the probe completes the mutual TLS handshake, so
   * "accepts" means a live node holding the key answered (not a kernel's backlog under a paused
   * process, nor a forwarder in front of a dead one); without it a connect is "unknown". One probe
   * per member at a time: a caller that finds one begun before {@code since} waits for it, and
   * then shares the next.
   */
  Future<PortProbe.State> portAfter(String nodeId, long since) {
    Probe probe = probes.compute(nodeId, (k, last) -> last != null && (last.at - since >= 0 || !last.result.isComplete())
        ? last : probe(nodeId, System.nanoTime()));
    if (probe.at - since >= 0) {
      // Without the key a connect proves nothing (a forwarder in front of a dead node accepts too).
      return onCallersContext(probe.result).map(s -> s == PortProbe.State.ACCEPTS && !probesHandshake
          ? PortProbe.State.UNKNOWN : s);
    }
    return onCallersContext(probe.result).transform(ended -> portAfter(nodeId, since));
  }

  /**
   * {@code probe}'s outcome on the caller's own event loop: a probe is shared by every verticle
   * that asks, and a Vert.x future calls back on the context it was made on (a session verticle's
   * copy holders and sessions must not be touched from another's thread).
   */
  private <T> Future<T> onCallersContext(Future<T> probe) {
    Context caller = vertx.getOrCreateContext();
    Promise<T> answer = Promise.promise();
    probe.onComplete(ar -> caller.runOnContext(v -> answer.handle(ar)));
    return answer.future();
  }

  /** A probe of member {@code nodeId}'s event-bus port, begun at {@code now}. */
  private Probe probe(String nodeId, long now) {
    Future<PortProbe.State> result = learnAddress(nodeId).compose(address -> {
      if (address == null) {
        return Future.succeededFuture(PortProbe.State.UNKNOWN);
      }
      if (takenOver(nodeId, address)) {
        return Future.succeededFuture(PortProbe.State.REFUSES);  // restarted: its address is a new member's now
      }
      return PortProbe.state(prober, probesHandshake, address.host(), address.port());
    });
    // Probes of one member may end out of order (their callers' event loops): the verdict of the
    // later-begun one stands.
    result.onSuccess(state -> {
      if (state == PortProbe.State.REFUSES) {
        refusedAt.values().removeIf(at -> now - at > REFUSED_KEPT_NANOS);  // bounded: ids of old deaths go
        refusedAt.merge(nodeId, now, Math::max);
        refusedNow(nodeId, now);
      } else if (state == PortProbe.State.ACCEPTS) {
        refusedAt.computeIfPresent(nodeId, (k, at) -> at - now < 0 ? null : at);
      }
    });
    return new Probe(now, result);
  }

  private record Probe(long at, Future<PortProbe.State> result) {
  }

  /** Whether another member now has the address that member {@code nodeId} had. */
  private boolean takenOver(String nodeId, SocketAddress address) {
    return manager.getNodes().stream()
        .anyMatch(other -> !other.equals(nodeId) && address.equals(addresses.get(other)));
  }

  /**
   * When member {@code nodeId} last came into this node's view (System.nanoTime; 0 if it was there
   * from the start): after a partition heals, its silence during the split is no longer news.
   */
  long joinedAt(String nodeId) {
    return joinedAt.getOrDefault(nodeId, 0L);
  }

  /**
   * Connects to every other member's event-bus port: a killed member is found by its refusing port
   * even when nothing is asked of it.
   */
  void watch() {
    if (!manager.isActive()) {
      return;
    }
    String self = manager.getNodeId();
    for (String member : manager.getNodes()) {
      if (!member.equals(self)) {
        // A bare connect: a refusal is all it looks for (a TLS handshake each second costs both
        // nodes CPU, and its quick close may be logged by the probed node).
        learnAddress(member).onSuccess(address -> {
          if (address != null) {
            long now = System.nanoTime();
            PortProbe.state(prober, false, address.host(), address.port()).onSuccess(state -> {
              if (state == PortProbe.State.REFUSES) {
                refusedAt.merge(member, now, Math::max);  // out of members() at once, as a probe's refusal is
                refusedNow(member, now);
              }
            });
          }
        });
      }
    }
  }

  /**
   * A probe found member {@code nodeId}'s port refusing: the listeners hear it while the cluster
   * manager still counts the member, again every {@link #REFUSED_TOLD_NANOS} (a suspicion the
   * group did not act on, stored by a member that was not the coordinator, is lost with the next
   * view).
   */
  private void refusedNow(String nodeId, long now) {
    if (!manager.getNodes().contains(nodeId)) {
      return;
    }
    Long told = refusedTold.get(nodeId);
    if (told == null || now - told > REFUSED_TOLD_NANOS) {
      refusedTold.keySet().retainAll(manager.getNodes());  // bounded: members only
      refusedTold.put(nodeId, now);
      refusedListeners.forEach(l -> l.accept(nodeId));
    }
  }

  /**
   * Calls {@code listener} with the id of a member the cluster manager still counts when a probe
   * finds its port refusing (at most every two seconds per member): its process is likely gone (a
   * live one refusing, leaving or behind a forwarder, is possible).
   */
  void onRefused(Consumer<String> listener) {
    refusedListeners.add(listener);
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
    if (!refusedAt.isEmpty()) {
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

  /** Whether a probe found member {@code nodeId}'s port refusing less than {@link #REFUSED_KEPT_NANOS} ago. */
  private boolean refusedRecently(String nodeId, long now) {
    Long at = refusedAt.get(nodeId);
    return at != null && now - at < REFUSED_KEPT_NANOS;
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
