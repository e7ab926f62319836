// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.core.spi.cluster.NodeInfo;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * What the members' event-bus ports say: a killed node's refuse at once, seconds before the
 * cluster manager removes it. Probes asked for (one per member at a time, shared by every caller),
 * a watch of every member each second, and the refusals told to listeners. One per node, beside
 * {@link Members}.
 */
final class PortWatch {

  /** A member whose event-bus port refused this recently is taken for gone (JGroups takes seconds more). */
  private static final long REFUSED_KEPT_NANOS = 10_000_000_000L;
  private static final long REFUSED_TOLD_NANOS = 2_000_000_000L;

  private final Vertx vertx;
  private final ClusterManager manager;
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
  private final List<Consumer<String>> refusedListeners = new CopyOnWriteArrayList<>();
  /** When the listeners last heard that each member refuses. */
  private final Map<String, Long> refusedTold = new ConcurrentHashMap<>();

  /** {@code probes}: how a probe connects to a member's event-bus port (with its TLS, when the cluster has a key). */
  PortWatch(Vertx vertx, ClusterManager manager, NetClientOptions probes) {
    this.vertx = vertx;
    this.manager = manager;
    this.prober = vertx.createNetClient(probes);
    this.probesHandshake = probes.isSsl();
    manager.getNodes().forEach(this::learnAddress);
  }

  /** Remembers where member {@code nodeId}'s event bus listens (asked of the cluster manager once). */
  Future<SocketAddress> learnAddress(String nodeId) {
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
   * Member {@code nodeId} came (back) into the cluster manager's view: the group took it in, so it
   * runs, whatever its port said before (a partition that refused connections, now healed).
   */
  void rejoined(String nodeId) {
    refusedAt.remove(nodeId);
  }

  /** Whether a probe found member {@code nodeId}'s port refusing less than {@link #REFUSED_KEPT_NANOS} ago. */
  boolean refusedRecently(String nodeId, long now) {
    Long at = refusedAt.get(nodeId);
    return at != null && now - at < REFUSED_KEPT_NANOS;
  }

  /**
   * Whether member {@code nodeId}'s event-bus port refuses connections: its process is gone (a
   * killed node's ports close at once; the cluster manager notices only after missed heartbeats).
   * A paused or slow node still accepts: false. Asked at most once per member per half second, and
   * never while a probe of it is under way.
   */
  Future<Boolean> refuses(String nodeId) {
    return state(nodeId).map(s -> s == PortProbe.State.REFUSES);
  }

  /**
   * What member {@code nodeId}'s event-bus port says, asked as {@link #refuses} is (at most once per
   * member per half second). "Accepts" only with the cluster's key: the mutual TLS handshake
   * done, a live node holding the key answered; without a key a connect proves nothing (unknown).
   */
  Future<PortProbe.State> state(String nodeId) {
    long now = System.nanoTime();
    bound();
    Probe probe = probes.compute(nodeId, (k, last) -> last != null
        && (now - last.at < 500_000_000L || !last.result.isComplete()) ? last : probe(nodeId, now));
    return onCallersContext(probe.result).map(this::proven);
  }

  /** Without the key a connect proves nothing (a forwarder in front of a dead node accepts too): "accepts" is unknown. */
  private PortProbe.State proven(PortProbe.State s) {
    return s == PortProbe.State.ACCEPTS && !probesHandshake ? PortProbe.State.UNKNOWN : s;
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
    bound();
    Probe probe = probes.compute(nodeId, (k, last) -> last != null && (last.at - since >= 0 || !last.result.isComplete())
        ? last : probe(nodeId, System.nanoTime()));
    if (probe.at - since >= 0) {
      return onCallersContext(probe.result).map(this::proven);
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
    return new Probe(now, check(nodeId, now, false));
  }

  /** Keeps the probes of members only, once many ids were probed (a long-lived cluster sees many). */
  private void bound() {
    if (probes.size() >= 256) {
      probes.keySet().retainAll(manager.getNodes());
    }
  }

  private record Probe(long at, Future<PortProbe.State> result) {
  }

  /**
   * Connects to member {@code nodeId}'s event-bus port (begun at {@code now}) and records a
   * refusal: a probe (with the cluster's TLS handshake when there is a key), or for the
   * {@code watch} a bare connect, which records refusals only. Checks of one member may end out of
   * order (their callers' event loops): the verdict of the later-begun one stands.
   */
  private Future<PortProbe.State> check(String nodeId, long now, boolean watch) {
    Future<PortProbe.State> result = learnAddress(nodeId).compose(address -> {
      if (address == null) {
        return Future.succeededFuture(PortProbe.State.UNKNOWN);
      }
      if (takenOver(nodeId, address)) {
        return Future.succeededFuture(PortProbe.State.REFUSES);  // restarted: its address is a new member's now
      }
      return PortProbe.state(prober, probesHandshake && !watch, address.host(), address.port());
    });
    result.onSuccess(state -> {
      if (state == PortProbe.State.REFUSES) {
        refusedAt.values().removeIf(at -> now - at > REFUSED_KEPT_NANOS);  // bounded: ids of old deaths go
        refusedAt.merge(nodeId, now, Math::max);
        refusedNow(nodeId, now);
      } else if (state == PortProbe.State.ACCEPTS && !watch) {
        refusedAt.computeIfPresent(nodeId, (k, at) -> at - now < 0 ? null : at);
      }
    });
    return result;
  }

  /** Whether another member now has the address that member {@code nodeId} had. */
  private boolean takenOver(String nodeId, SocketAddress address) {
    return manager.getNodes().stream()
        .anyMatch(other -> !other.equals(nodeId) && address.equals(addresses.get(other)));
  }

  /**
   * Connects to every other member's event-bus port: a killed member is found by its refusing port
   * even when nothing is asked of it. A bare connect: a refusal is all it looks for (a TLS
   * handshake each second costs both nodes CPU, and its quick close may be logged by the probed
   * node).
   */
  void watch() {
    if (!manager.isActive()) {
      return;
    }
    String self = manager.getNodeId();
    for (String member : manager.getNodes()) {
      if (!member.equals(self)) {
        check(member, System.nanoTime(), true);
      }
    }
  }

  /**
   * A check found member {@code nodeId}'s port refusing: the listeners hear it while the cluster
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
   * Calls {@code listener} with the id of a member the cluster manager still counts when a check
   * finds its port refusing (at most every two seconds per member): its process is likely gone (a
   * live one refusing, leaving or behind a forwarder, is possible).
   */
  void onRefused(Consumer<String> listener) {
    refusedListeners.add(listener);
  }
}
