// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import io.dstunnel.session.Addresses;
import io.vertx.core.Completable;
import io.vertx.core.Vertx;
import io.vertx.core.spi.cluster.NodeInfo;
import io.vertx.core.spi.cluster.RegistrationInfo;
import io.vertx.ext.cluster.infinispan.InfinispanClusterManager;
import io.vertx.ext.cluster.infinispan.impl.DataConverter;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.infinispan.AdvancedCache;
import org.infinispan.context.Flag;
import org.infinispan.manager.DefaultCacheManager;
import org.infinispan.multimap.impl.Bucket;
import org.infinispan.notifications.Listener;
import org.infinispan.notifications.cachemanagerlistener.annotation.Merged;
import org.infinispan.notifications.cachemanagerlistener.event.ViewChangedEvent;
import org.infinispan.remoting.transport.jgroups.JGroupsTransport;
import org.jgroups.Event;
import org.jgroups.JChannel;
import org.jgroups.View;
import org.jgroups.protocols.VERIFY_SUSPECT2;
import org.jgroups.util.NameCache;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * vertx-infinispan's cluster manager, with what it lacks. It leaves a cache manager it was given
 * running on leave: this one stops it. After a merge (a healed partition, or nodes that started
 * side by side and each formed a cluster first) the merged caches may have lost this node's
 * event-bus address and subscriptions (vertx-infinispan does not put them back): without them the
 * others answer "Not a member of the cluster" or "No handlers". This one records its own
 * registrations and publishes them, and its address, again after each merge. And it has the group
 * verify at once a member whose port refuses ({@link #suspect}), and a look-up of a node's own
 * address waits for no other member ({@link #getRegistrations}). Logs as {@link ClusterSetup}.
 */
final class MergingClusterManager extends InfinispanClusterManager {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterSetup.class);
  /** When, after a merge, this node publishes itself again: conflict resolution runs after the view. */
  private static final long[] REPUBLISH_MS = {1, 2_000, 5_000, 10_000};
  /** vertx-infinispan's replicated cache of who listens at each address (a multimap: a bucket per address). */
  private static final String SUBSCRIPTIONS = "__vertx.subs";
  private final DefaultCacheManager infinispan;
  private final Map<String, Set<RegistrationInfo>> own = new ConcurrentHashMap<>();
  private volatile Vertx vertx;

  MergingClusterManager(DefaultCacheManager infinispan) {
    super(infinispan);
    this.infinispan = infinispan;
  }

  @Override
  public void init(Vertx vertx) {
    super.init(vertx);
    this.vertx = vertx;
    infinispan.addListener(new MergeListener());
  }

  @Override
  public void addRegistration(String address, RegistrationInfo info, Completable<Void> done) {
    own.computeIfAbsent(address, a -> ConcurrentHashMap.newKeySet()).add(info);
    super.addRegistration(address, info, done);
  }

  /**
   * Who listens at {@code address}. vertx-infinispan reads its subscriptions cache with a locked
   * read-write command at the address's primary owner, so while that member is paused or cut off
   * the event bus's first message to the address waits until the group removes the member (10 s),
   * or longer: once, 23 s, while the survivors' cache stalled on the removal. A session's new copy
   * holder was reached that way after its owner's pause, and its client waited, or got a 503. The
   * cache is replicated (every member holds every entry, written to all before a registration
   * completes), so a node's own addresses ({@link Addresses#ofNode}, which no node registers as
   * local only) are read here from this member's replica, at once. When the replica has no one
   * there (a node not registered yet, or gone; or this member's replica behind after a merge that
   * found it alone), the primary owner is asked as before. Other addresses (published ones, which
   * several nodes listen at) as before.
   */
  @Override
  public void getRegistrations(String address, Completable<List<RegistrationInfo>> promise) {
    if (!Addresses.ofNode(address) || !infinispan.isRunning(SUBSCRIPTIONS)) {
      super.getRegistrations(address, promise);
      return;
    }
    AdvancedCache<String, Bucket<byte[]>> subscriptions =
        infinispan.<String, Bucket<byte[]>>getCache(SUBSCRIPTIONS).getAdvancedCache();
    subscriptions.withFlags(Flag.CACHE_MODE_LOCAL, Flag.SKIP_LOCKING).getAsync(address).whenComplete((bucket, err) -> {
      if (err == null && bucket != null && !bucket.isEmpty()) {
        promise.succeed(bucket.toList().stream().map(DataConverter::<RegistrationInfo>fromCachedObject).toList());
      } else {
        super.getRegistrations(address, promise);
      }
    });
  }

  @Override
  public void removeRegistration(String address, RegistrationInfo info, Completable<Void> done) {
    own.computeIfPresent(address, (a, set) -> {
      set.remove(info);
      return set.isEmpty() ? null : set;
    });
    super.removeRegistration(address, info, done);
  }

  /** The id of the view this node is in now (the group's: a merge view has one id on every member), or -1. */
  int viewId() {
    try {
      return infinispan.getTransport() == null ? -1 : infinispan.getTransport().getViewId();
    } catch (RuntimeException stopped) {
      return -1;  // the transport throws once stopped (a node leaving)
    }
  }

  /** Puts this node's address into the cluster's caches again (idempotent): its info, or null if inactive. */
  private NodeInfo republishNode() {
    NodeInfo info = getNodeInfo();
    if (!isActive() || info == null) {
      return null;
    }
    setNodeInfo(info, (v, err) -> logRepublish(err));
    return info;
  }

  /** Puts this node's subscriptions into the cluster's caches again (idempotent), on an event loop. */
  private void republishSubscriptions() {
    own.forEach((address, infos) -> infos.forEach(i -> super.addRegistration(address, i, (v, err) -> logRepublish(err))));
  }

  /**
   * Has JGroups verify now that member {@code nodeId}, whose event-bus port refused this node's
   * probe, is dead: VERIFY_SUSPECT2 asks it, and if no answer comes within its round (at most half
   * of {@code suspectAfterMs}, 2 s) the group excludes it, instead of after FD_ALL3's missed
   * heartbeats (5 x {@code suspectAfterMs}, 10 s at least). Until then every cluster-manager write
   * that needs a dead member (a subscription, a directory record it held) waits out Infinispan's
   * 15 s timeout. A live member that refuses (behind a forwarder) answers and stays. Only the
   * coordinator's suspicion excludes (or that of the member next in line, when the coordinator is
   * the dead one); every node watches every other. Not on an event loop: asking may wait.
   */
  void suspect(String nodeId) {
    if (!isActive() || nodeId.equals(getNodeId())) {
      return;
    }
    JChannel channel = ((JGroupsTransport) infinispan.getTransport()).getChannel();
    View view = channel.getView();
    VERIFY_SUSPECT2 verify = channel.getProtocolStack().findProtocol(VERIFY_SUSPECT2.class);
    if (view == null || verify == null) {
      return;
    }
    for (org.jgroups.Address member : view.getMembers()) {
      if (nodeId.equals(NameCache.get(member))) {
        LOG.info("dstunnel cluster: node {} refuses connections: the group verifies that it is dead", nodeId);
        verify.up(new Event(Event.SUSPECT, List.of(member)));
      }
    }
  }

  private static void logRepublish(Throwable err) {
    if (err != null) {
      LOG.debug("publishing this node again after a merge: {}", err.toString());
    }
  }

  /** A merge view: publish this node again, now and a few times while the caches settle. */
  @Listener
  public final class MergeListener {

    @Merged
    public void merged(ViewChangedEvent event) {
      Vertx v = vertx;
      if (v != null) {
        for (long delay : REPUBLISH_MS) {
          // getNodeInfo() and setNodeInfo() wait for the cluster manager's lock, which
          // vertx-infinispan holds through a view change, cache writes included (seconds; 15 s
          // when a member is dead): on a worker. On an event loop that stalled every request of
          // the loop (CI saw 14 s). The subscriptions go back on the timer's event loop, where
          // vertx-infinispan queues them (its queue is the loop's, not thread-safe).
          v.setTimer(delay, t -> v.executeBlocking(MergingClusterManager.this::republishNode, false).onSuccess(info -> {
            if (info != null) {
              republishSubscriptions();
            }
          }));
        }
      }
    }
  }

  @Override
  public void leave(Completable<Void> done) {
    // Stopping leaves the JGroups group at once (the others see a view without this node, not a
    // suspicion seconds later); it blocks, so not on the thread that called.
    super.leave((v, err) -> new Thread(() -> {
      stopCacheManager();
      done.complete(null, err);
    }, "dstunnel-cluster-leave").start());
  }

  void stopCacheManager() {
    try {
      infinispan.stop();
    } catch (RuntimeException e) {
      LOG.debug("stopping the cluster manager: {}", e.toString());
    }
  }
}
