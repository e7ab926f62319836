// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.dstunnel.support.Blackhole;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
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
    NetClient client = vertx.createNetClient();
    assertThat(PortProbe.refuses(client, "127.0.0.1", port).await()).isTrue();
  }

  @Test
  void aListeningPortDoesNotRefuse(Vertx vertx) {
    NetServer server = vertx.createNetServer().connectHandler(s -> { }).listen(0, "127.0.0.1").await();
    assertThat(PortProbe.refuses(vertx.createNetClient(), "127.0.0.1", server.actualPort()).await()).isFalse();
  }

  @Test
  void aPortThatNeverAnswersIsNotTakenForADeadProcess(Vertx vertx) throws Exception {
    try (Blackhole hole = Blackhole.start()) {
      assertThat(PortProbe.refuses(vertx.createNetClient(), "127.0.0.1", hole.port()).await()).isFalse();
    }
  }
}
