// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import io.dstunnel.config.ClusterConfig;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import org.jgroups.protocols.FD_ALL3;
import org.jgroups.protocols.FRAG4;
import org.jgroups.protocols.MERGE3;
import org.jgroups.protocols.MFC;
import org.jgroups.protocols.TCP;
import org.jgroups.protocols.TCPPING;
import org.jgroups.protocols.UFC;
import org.jgroups.protocols.UNICAST3;
import org.jgroups.protocols.VERIFY_SUSPECT2;
import org.jgroups.protocols.dns.DNS_PING;
import org.jgroups.protocols.pbcast.GMS;
import org.jgroups.protocols.pbcast.NAKACK2;
import org.jgroups.protocols.pbcast.STABLE;
import org.jgroups.stack.Protocol;

/**
 * The JGroups stack under the cluster manager, built from the {@code cluster} section (no XML):
 * TCP to the members (over mutual TLS from the cluster's key, unless the network is trusted),
 * discovery by {@code members} or by the headless Service's DNS name, merging after a partition,
 * failure detection from {@code suspectAfterMs}, reliable ordered delivery, membership, flow
 * control and fragmentation. Nothing listens on another port: JGroups' FD_SOCK2 would open one in
 * clear, and is left out.
 */
final class JGroupsStack {

  /** The longest time between two of MERGE3's rounds, which find the two sides of a healed split. */
  private static final long MERGE_MAX_INTERVAL_MS = 6000;

  /** How long a member is silent before it is suspected (FD_ALL3): 5 × suspectAfterMs, 10 s at least. */
  private static long silenceMs(long suspect) {
    return Math.max(5 * suspect, 10_000);
  }

  /** How long a suspected member has to say it lives (VERIFY_SUSPECT2): half of suspectAfterMs, 0.2 to 2 s. */
  private static long verifyMs(long suspect) {
    return Math.min(Math.max(200, suspect / 2), 2000);
  }

  /**
   * How long a member taken out of the group while alive (paused, cut off) may take to be back in
   * it once it can talk to the others again: it takes them out first, as they took it
   * ({@link #silenceMs}, {@link #verifyMs}), then two merge rounds find both sides.
   */
  static long rejoinMs(long suspect) {
    return silenceMs(suspect) + verifyMs(suspect) + 2 * MERGE_MAX_INTERVAL_MS;
  }


  private JGroupsStack() {
  }

  /** The protocols, bottom (transport) to top; {@code keys} null on a trusted network (no TLS). */
  static List<Protocol> protocols(ClusterConfig c, ClusterKeys keys) throws UnknownHostException {
    TCP tcp = new TCP();
    tcp.setBindAddress(InetAddress.getByName(c.host()));
    tcp.setBindPort(c.port());
    tcp.setPortRange(0);
    // JGroups 5.2 leaves Nagle on: map operations then stall ~40 ms on delayed ACKs.
    tcp.tcpNodelay(true);
    if (!c.publicHost().equals(c.host()) || c.publicPort() != c.port()) {
      tcp.setExternalAddr(InetAddress.getByName(c.publicHost()));
      tcp.setExternalPort(c.publicPort());
    }
    if (keys != null) {
      // Both sides present the cluster's certificate (NEED): an unkeyed peer gets no connection.
      tcp.setSocketFactory(new MemberSockets(keys.sslContext()));
    }
    List<Protocol> stack = new ArrayList<>();
    stack.add(tcp);
    stack.add(discovery(c));
    stack.add(new MERGE3().setMinInterval(2000).setMaxInterval(MERGE_MAX_INTERVAL_MS));
    // Heartbeats every suspectAfterMs/2; a member silent 5 x suspectAfterMs (10 s at least, as the
    // Hazelcast setup had) is suspected, and removed once VERIFY_SUSPECT2 confirms. Not 1:1: a
    // loaded JVM misses two seconds of heartbeats now and then, and would be cut out. A killed
    // node is noticed sooner by dstunnel itself: each node watches the others' event-bus ports, and
    // has the group verify a member whose port refuses (MergingClusterManager.suspect). A member
    // suspected is asked whether it is dead and excluded if no answer comes within VERIFY_SUSPECT2's
    // round: half of suspectAfterMs, 2 s at most (less for one suspected while a round runs). A
    // live member's JGroups threads answer in milliseconds.
    long suspect = c.suspectAfterMs();
    stack.add(new FD_ALL3().setTimeout(silenceMs(suspect)).setInterval(Math.max(100, suspect / 2)));
    stack.add(new VERIFY_SUSPECT2().setTimeout(verifyMs(suspect)));
    NAKACK2 nakack = new NAKACK2();
    nakack.useMcastXmit(false);
    stack.add(nakack);
    stack.add(new UNICAST3());
    stack.add(new STABLE());
    // A node that found the cluster keeps asking to join until it is let in (0: never give up). A
    // node killed and restarted at once on the same address is let in only once the others have
    // excluded its earlier self (FD_ALL3, 10 s at least, more on a loaded machine); after JGroups'
    // default of 10 attempts it formed a cluster of its own, served its clients a 404 for every
    // session until the merge, and merged seconds later (the cluster soak saw it at 8 of 9 kills).
    // Discovery waits 3 s for answers (2 s was short for a JVM just started on a loaded machine,
    // its first TLS handshakes still cold).
    GMS gms = new GMS().setJoinTimeout(3000).setMaxJoinAttempts(0);
    gms.printLocalAddress(false);  // a banner on stdout, outside the log's format
    stack.add(gms);
    stack.add(new UFC());
    stack.add(new MFC());
    stack.add(new FRAG4());
    return stack;
  }

  private static Protocol discovery(ClusterConfig c) {
    if (c.kubernetesServiceDns() != null) {
      // The headless Service's A records, each probed on this node's member port (every pod has
      // the same one); the Service must publish not-ready addresses, or no pod is ever found.
      return new DNS_PING().setDNSQuery(c.kubernetesServiceDns());
    }
    List<InetSocketAddress> hosts = new ArrayList<>();
    for (String m : c.members()) {
      int colon = m.lastIndexOf(':');
      hosts.add(new InetSocketAddress(m.substring(0, colon), Integer.parseInt(m.substring(colon + 1))));
    }
    TCPPING ping = new TCPPING();
    ping.setInitialHosts(hosts);
    ping.setPortRange(0);
    return ping;
  }
}
