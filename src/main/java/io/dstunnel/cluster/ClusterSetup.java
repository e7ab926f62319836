// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import io.dstunnel.config.ClusterConfig;
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
import java.util.List;
import java.util.Set;
import java.util.UUID;
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
import org.jgroups.JChannel;
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
    MergingClusterManager manager = new MergingClusterManager(infinispan);
    return builder.with(options).withClusterManager(manager).buildClustered()
        .onFailure(err -> manager.stopCacheManager())
        .onSuccess(vertx -> {
          // The membership lines first: a member that joins between the count below and a listener
          // added after it was never logged (a start waiting for "members: 3" waited in vain).
          infinispan.addListener(new MembershipLog());
          LOG.info("dstunnel cluster joined ({} members): this node is {} at {}:{} ({})", manager.getNodes().size(),
              manager.getNodeId(), config.publicHost(), config.publicPort(),
              keys != null ? "member port and event bus over mutual TLS from cluster.secret" : "trusted network, in clear");
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
   * How {@link PortWatch} probes a member's event-bus port: with the cluster's key, through the whole
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
