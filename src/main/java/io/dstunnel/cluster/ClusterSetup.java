// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import io.dstunnel.config.ClusterConfig;
import io.vertx.core.Completable;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.PfxOptions;
import io.vertx.core.net.TCPSSLOptions;
import io.vertx.core.spi.cluster.NodeInfo;
import io.vertx.core.spi.cluster.RegistrationInfo;
import io.vertx.ext.cluster.infinispan.InfinispanClusterManager;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.infinispan.configuration.cache.CacheMode;
import org.infinispan.configuration.parsing.ConfigurationBuilderHolder;
import org.infinispan.conflict.MergePolicy;
import org.infinispan.manager.DefaultCacheManager;
import org.infinispan.notifications.Listener;
import org.infinispan.notifications.cachemanagerlistener.annotation.Merged;
import org.infinispan.notifications.cachemanagerlistener.annotation.ViewChanged;
import org.infinispan.notifications.cachemanagerlistener.event.ViewChangedEvent;
import org.infinispan.partitionhandling.PartitionHandling;
import org.infinispan.remoting.transport.Address;
import org.infinispan.remoting.transport.jgroups.JGroupsTransport;
import org.jgroups.Event;
import org.jgroups.JChannel;
import org.jgroups.View;
import org.jgroups.protocols.VERIFY_SUSPECT2;
import org.jgroups.util.NameCache;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds a clustered Vert.x on Infinispan (JGroups) from the {@code cluster} section. With
 * {@code cluster.secret}, the member port (JGroups TCP) and the event bus both speak mutual TLS with
 * a key pair derived from the secret ({@link ClusterKeys}): a process without it can neither join,
 * nor read the cluster manager's caches, nor send or receive on the event bus. On a trusted network
 * ({@code cluster.trustedNetwork}, no secret) the same stack runs in clear, with a warning at every
 * start. The member address and the event-bus address are set explicitly (bind and advertise
 * {@code cluster.host}): left to themselves, JGroups and Vert.x pick an interface, which in a pod or
 * on a multi-homed host is often not the one the other nodes can reach.
 */
public final class ClusterSetup {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterSetup.class);
  /** The Infinispan caches vertx-infinispan uses: distributed maps, and its replicated registries. */
  private static final List<String> DISTRIBUTED = List.of("distributed-cache", "__vertx.distributed.cache.configuration",
      // dstunnel's cluster-wide maps, defined on every node from the start: created on demand from
      // the template instead, a node that had just merged into the cluster once failed to create
      // one ("no matching cache configuration exists") and the node asking could not start.
      Directory.MAP, BackendModes.MAP, "dstunnel.rest.sessions", "dstunnel.rest.channels");
  private static final List<String> REPLICATED = List.of("__vertx.subs", "__vertx.haInfo", "__vertx.nodeInfo");

  private ClusterSetup() {
  }

  /**
   * A clustered Vert.x joined to the cluster {@code config} describes. Blocks while it derives the
   * keys and starts JGroups (seconds): call it before Vert.x runs, never on an event loop.
   */
  public static Future<Vertx> vertx(VertxBuilder builder, VertxOptions options, ClusterConfig config) {
    DefaultCacheManager infinispan;
    ClusterKeys keys;
    try {
      keys = config.secret() == null ? null : new ClusterKeys(config.secret());
      if (keys == null) {
        LOG.warn("cluster.trustedNetwork: true and no cluster.secret: the cluster ports ({}:{} and the event bus) "
            + "are in clear and unauthenticated; any process that reaches them can join, read and write the "
            + "cluster's sessions. Give every node cluster.secret (DSTUNNEL_CLUSTER_SECRET) unless only the "
            + "cluster's nodes can reach those ports", config.host(), config.port());
      }
      infinispan = cacheManager(config, keys);
      StartAlone.awaitOthers(infinispan, config);
    } catch (Exception e) {
      return Future.failedFuture(e);
    }
    EventBusOptions eventBus = options.getEventBusOptions().setHost(config.host()).setPort(config.eventBusPort())
        .setClusterPublicHost(config.publicHost());
    if (config.publicEventBusPort() != 0) {
      eventBus.setClusterPublicPort(config.publicEventBusPort());
    }
    if (keys != null) {
      withKey(eventBus.setClientAuth(ClientAuth.REQUIRED), keys);
    }
    Manager manager = new Manager(infinispan);
    return builder.with(options).withClusterManager(manager).buildClustered()
        .onFailure(err -> manager.stopCacheManager())
        .onSuccess(vertx -> {
          LOG.info("dstunnel cluster joined ({} members): this node is {} at {}:{} ({})", manager.getNodes().size(),
              manager.getNodeId(), config.publicHost(), config.publicPort(),
              keys != null ? "member port and event bus over mutual TLS from cluster.secret" : "trusted network, in clear");
          infinispan.addListener(new MembershipLog());
        });
  }

  /** {@code options} speaking the cluster's mutual TLS, from {@code keys} (the event bus, a port probe). */
  static <T extends TCPSSLOptions> T withKey(T options, ClusterKeys keys) {
    // In-memory PKCS12, not KeyCertOptions.wrap/TrustOptions.wrap: the clustered event bus rebuilds
    // its server and client options from EventBusOptions.toJson(), which drops wrapped managers.
    String pw = ClusterKeys.STORE_PASSWORD;
    options.setSsl(true).setEnabledSecureTransportProtocols(java.util.Set.of(ClusterKeys.PROTOCOLS))
        .setKeyCertOptions(new PfxOptions().setValue(Buffer.buffer(keys.keyStore())).setPassword(pw))
        .setTrustOptions(new PfxOptions().setValue(Buffer.buffer(keys.trustStore())).setPassword(pw));
    return options;
  }

  /**
   * How {@link Members} probes a member's event-bus port: with the cluster's key, through the whole
   * mutual TLS handshake (only a live node holding the key completes it), within a second.
   */
  static NetClientOptions probeOptions(String secret) {
    NetClientOptions options = new NetClientOptions().setHostnameVerificationAlgorithm("")
        .setSslHandshakeTimeout(PortProbe.TIMEOUT_MS).setSslHandshakeTimeoutUnit(java.util.concurrent.TimeUnit.MILLISECONDS);
    return secret == null ? options : withKey(options, new ClusterKeys(secret));
  }

  /** Infinispan on a JGroups channel of dstunnel's stack, started (joined) before it returns. */
  static DefaultCacheManager cacheManager(ClusterConfig c, ClusterKeys keys) throws Exception {
    JChannel channel = new JChannel(JGroupsStack.protocols(c, keys));
    // The Vert.x node id: random per start, as before (a restarted node is a new member).
    String nodeId = UUID.randomUUID().toString();
    channel.name(nodeId);
    ConfigurationBuilderHolder holder = new ConfigurationBuilderHolder();
    holder.getGlobalConfigurationBuilder().clusteredDefault().defaultCacheName(DISTRIBUTED.get(0))
        .transport().clusterName(c.name()).nodeName(nodeId).transport(new JGroupsTransport(channel));
    // dstunnel's own session copies follow cluster.backups; the cluster manager's maps as well.
    // After a partition heals (or nodes that started side by side each formed a cluster of their
    // own, then merge), Infinispan's default keeps one side's entries and drops the others'; here an
    // entry only one side has is kept (a conflict goes to the preferred side), as Hazelcast did.
    for (String name : DISTRIBUTED) {
      holder.newConfigurationBuilder(name).clustering().cacheMode(CacheMode.DIST_SYNC)
          .partitionHandling().whenSplit(PartitionHandling.ALLOW_READ_WRITES).mergePolicy(MergePolicy.PREFERRED_NON_NULL)
          .hash().numOwners(c.backups() + 1);
    }
    for (String name : REPLICATED) {
      holder.newConfigurationBuilder(name).clustering().cacheMode(CacheMode.REPL_SYNC)
          .partitionHandling().whenSplit(PartitionHandling.ALLOW_READ_WRITES).mergePolicy(MergePolicy.PREFERRED_NON_NULL);
    }
    return new DefaultCacheManager(holder, true);
  }

  /**
   * vertx-infinispan's cluster manager, with two things it lacks. It leaves a cache manager it was
   * given running on leave: this one stops it. And after a merge (a healed partition, or nodes
   * that started side by side and each formed a cluster first) the merged caches may have lost
   * this node's event-bus address and subscriptions (vertx-infinispan does not put them back):
   * without them the others answer "Not a member of the cluster" or "No handlers". This one
   * records its own registrations and publishes them, and its address, again after each merge.
   */
  static final class Manager extends InfinispanClusterManager {
    /** When, after a merge, this node publishes itself again: conflict resolution runs after the view. */
    private static final long[] REPUBLISH_MS = {1, 2_000, 5_000, 10_000};
    private final DefaultCacheManager infinispan;
    private final Map<String, Set<RegistrationInfo>> own = new ConcurrentHashMap<>();
    private volatile Vertx vertx;

    Manager(DefaultCacheManager infinispan) {
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

    @Override
    public void removeRegistration(String address, RegistrationInfo info, Completable<Void> done) {
      own.computeIfPresent(address, (a, set) -> {
        set.remove(info);
        return set.isEmpty() ? null : set;
      });
      super.removeRegistration(address, info, done);
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
            v.setTimer(delay, t -> v.executeBlocking(Manager.this::republishNode, false).onSuccess(info -> {
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

  /**
   * The membership lines, one per member that joined or left, with the count after the change
   * ({@code dstunnel cluster members: 3 (node 0b6c… joined)}, {@code … (node 0b6c… left)}).
   */
  @Listener
  public static final class MembershipLog {

    @ViewChanged
    @Merged
    public void changed(ViewChangedEvent event) {
      int count = event.getNewMembers().size();
      String merge = event.isMergeView() ? ", a merge" : "";
      for (Address a : event.getNewMembers()) {
        if (!event.getOldMembers().contains(a)) {
          LOG.info("dstunnel cluster members: {} (node {} joined{})", count, a, merge);
        }
      }
      for (Address a : event.getOldMembers()) {
        if (!event.getNewMembers().contains(a)) {
          LOG.info("dstunnel cluster members: {} (node {} left{})", count, a, merge);
        }
      }
    }
  }
}
