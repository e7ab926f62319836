// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import io.dstunnel.config.ClusterConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds a clustered Vert.x on Hazelcast from the {@code cluster} section. The member address and
 * the event-bus address are set explicitly (bind and advertise {@code cluster.host}): left to
 * themselves, Hazelcast and Vert.x pick an interface, which in a pod or on a multi-homed host is
 * often not the one the other nodes can reach. Failure detection is tightened from Hazelcast's
 * minute to seconds: a proxy node's death must not wait for it.
 */
public final class ClusterSetup {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterSetup.class);
  /** The member attribute in which Vert.x's Hazelcast cluster manager keeps a member's node id. */
  private static final String VERTX_NODE_ID = "__vertx.nodeId";

  private ClusterSetup() {
  }

  /** A clustered Vert.x joined to the cluster {@code config} describes. */
  public static Future<Vertx> vertx(VertxBuilder builder, VertxOptions options, ClusterConfig config) {
    HazelcastClusterManager manager = new HazelcastClusterManager(hazelcast(config));
    options.getEventBusOptions().setHost(config.host()).setPort(config.eventBusPort())
        .setClusterPublicHost(config.publicHost());
    if (config.publicEventBusPort() != 0) {
      options.getEventBusOptions().setClusterPublicPort(config.publicEventBusPort());
    }
    return builder.with(options).withClusterManager(manager).buildClustered().onSuccess(vertx -> {
      // dstunnel names a node by its Vert.x node id (in /admin/cluster, /admin/sessions and every
      // cluster line of the log); Hazelcast's own lines name its member UUID, which differs (and
      // changes after a split-brain merge): the mapping is logged here, once, and at each join.
      Member local = manager.getHazelcastInstance().getCluster().getLocalMember();
      LOG.info("dstunnel cluster joined ({} members): this node is {} at {} (Hazelcast member {})",
          manager.getNodes().size(), manager.getNodeId(), local.getAddress(), local.getUuid());
      manager.getHazelcastInstance().getCluster().addMembershipListener(new MembershipListener() {
        @Override
        public void memberAdded(MembershipEvent event) {
          LOG.info("dstunnel cluster members: {} (node {} at {} joined; Hazelcast member {})", event.getMembers().size(),
              nodeId(event.getMember()), event.getMember().getAddress(), event.getMember().getUuid());
        }

        @Override
        public void memberRemoved(MembershipEvent event) {
          LOG.info("dstunnel cluster members: {} (node {} at {} left)", event.getMembers().size(),
              nodeId(event.getMember()), event.getMember().getAddress());
        }
      });
    });
  }

  /** The Vert.x node id (dstunnel's) of a Hazelcast member, as the cluster manager records it. */
  static String nodeId(Member member) {
    String id = member.getAttribute(VERTX_NODE_ID);
    return id == null ? "(unknown)" : id;
  }

  static Config hazelcast(ClusterConfig c) {
    Config hz = ConfigUtil.loadConfig();
    hz.setClusterName(c.name());
    hz.setProperty("hazelcast.logging.type", "slf4j");
    hz.setProperty("hazelcast.phone.home.enabled", "false");
    // A killed node is noticed at once (its connections close); a silent one after ten missed
    // heartbeats. Five split a loaded cluster in the soak: heartbeats came four seconds late.
    hz.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    hz.setProperty("hazelcast.max.no.heartbeat.seconds", "10");
    hz.setProperty("hazelcast.merge.first.run.delay.seconds", "5");
    hz.setProperty("hazelcast.merge.next.run.delay.seconds", "5");
    hz.setProperty("hazelcast.socket.bind.any", "false");
    hz.setProperty("hazelcast.wait.seconds.before.join", "1");
    // Hazelcast's own metrics (for its Management Center and JMX) are read by nobody here: dstunnel
    // exports its own on /metrics. Collecting them walks every map partition every few seconds and
    // warns of partitions without an owner while members join ("replica: 1 has no owner!").
    hz.getMetricsConfig().setEnabled(false);
    NetworkConfig net = hz.getNetworkConfig();
    net.setPort(c.port()).setPortAutoIncrement(false);
    net.setPublicAddress(c.publicHost() + ":" + c.publicPort());
    net.getInterfaces().setEnabled(true).addInterface(c.host());
    JoinConfig join = net.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    if (c.kubernetesServiceDns() != null) {
      join.getKubernetesConfig().setEnabled(true).setProperty("service-dns", c.kubernetesServiceDns());
    } else {
      join.getTcpIpConfig().setEnabled(true).setMembers(c.members());
    }
    return hz;
  }
}
