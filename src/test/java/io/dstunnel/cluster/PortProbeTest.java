// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.dstunnel.support.Blackhole;
import io.dstunnel.support.Sockets;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.junit5.VertxExtension;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A partition is not a death (cluster.md §7): a port that refuses is a dead process; one that does
 * not answer (a black hole, as a cut network looks) is not. Before, a connect timeout counted as
 * refused (Netty's ConnectTimeoutException is a ConnectException).
 */
@ExtendWith(VertxExtension.class)
class PortProbeTest {

  @Test
  void aClosedPortRefuses(Vertx vertx) throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    assertThat(plainProbe(vertx, port)).isEqualTo(PortProbe.State.REFUSES);
  }

  @Test
  void aListeningPortDoesNotRefuse(Vertx vertx) {
    NetServer server = vertx.createNetServer().connectHandler(s -> { }).listen(0, "127.0.0.1").await();
    assertThat(plainProbe(vertx, server.actualPort())).isEqualTo(PortProbe.State.ACCEPTS);
  }

  @Test
  void aPortThatNeverAnswersIsNotTakenForADeadProcess(Vertx vertx) throws Exception {
    try (Blackhole hole = Blackhole.start()) {
      assertThat(plainProbe(vertx, hole.port())).isNotEqualTo(PortProbe.State.REFUSES);
    }
  }

  /**
   * With the cluster's key a probe proves a live node: it must complete the mutual TLS handshake.
   * A plain listener (a forwarder's accept, a kernel's backlog under a paused process) and a node
   * with another key prove nothing. Before, the probe was a bare connect although its client held
   * the key: every accept counted as a live node.
   */
  @Test
  void aKeyedProbeAcceptsOnlyANodeThatCompletesTheHandshakeWithTheKey(Vertx vertx) {
    String key = "probe-test-key-0123456789-abcdefghijklmnopqrstuvwxyz";
    NetClient prober = vertx.createNetClient(ClusterSetup.probeOptions(key));
    NetServer plain = vertx.createNetServer().connectHandler(s -> { }).listen(0, "127.0.0.1").await();
    NetServer keyed = vertx.createNetServer(ClusterSetup.withKey(new NetServerOptions()
        .setClientAuth(ClientAuth.REQUIRED), new ClusterKeys(key))).connectHandler(s -> { }).listen(0, "127.0.0.1").await();
    NetServer otherKey = vertx.createNetServer(ClusterSetup.withKey(new NetServerOptions()
        .setClientAuth(ClientAuth.REQUIRED), new ClusterKeys(key + "-other"))).connectHandler(s -> { })
        .listen(0, "127.0.0.1").await();
    assertThat(PortProbe.state(prober, true, "127.0.0.1", keyed.actualPort()).await()).isEqualTo(PortProbe.State.ACCEPTS);
    assertThat(PortProbe.state(prober, true, "127.0.0.1", plain.actualPort()).await()).isEqualTo(PortProbe.State.UNKNOWN);
    assertThat(PortProbe.state(prober, true, "127.0.0.1", otherKey.actualPort()).await())
        .isEqualTo(PortProbe.State.UNKNOWN);
  }

  /** A probe without the cluster's key, as {@code trustedNetwork} makes it. */
  private static PortProbe.State plainProbe(Vertx vertx, int port) {
    return PortProbe.state(Sockets.client(vertx), false, "127.0.0.1", port).await();
  }
}
