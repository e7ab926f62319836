// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.dstunnel.demo.TunnelClient;
import io.dstunnel.support.Backends;
import io.dstunnel.support.ClusterNodes;
import io.dstunnel.support.Haproxy;
import io.dstunnel.support.ProxyProcess;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A front that routes each session to its owner (cluster.md, "A front before the nodes"): HAProxy
 * learns a new session's node from the {@code dstunnel-session} header of the open's answer and
 * sends the session's requests there, so none is forwarded between the nodes; the same front
 * without those lines sends each request to the next node, and most are forwarded.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class StickyFrontIT {

  /** The backend lines cluster.md gives for HAProxy. */
  static final String STICK = """
      stick-table type string len 64 size 1m expire 1h
      stick match url_param(dss)
      stick store-response res.hdr(dstunnel-session)
      """;

  @RegisterExtension
  final ClusterNodes cluster = new ClusterNodes();

  @Test
  void aFrontStickingOnTheSessionHeaderSendsEachSessionToItsOwner(Vertx vertx, @TempDir Path dir) throws Exception {
    List<ProxyProcess> n = cluster.start(dir, 3, ClusterNodes.only(Backends.start(vertx, "A")), 2000, 1, c -> { });
    try (Haproxy sticky = Haproxy.before(dir, n, STICK); Haproxy roundRobin = Haproxy.before(dir, n, "")) {
      assertThat(callsThrough(vertx, sticky, 6)).as("requests forwarded between the nodes behind the sticky front")
          .isZero();
      assertThat(callsThrough(vertx, roundRobin, 6)).as("requests forwarded behind plain round robin").isPositive();
    }
  }

  /** Opens {@code sessions} sessions through {@code front}, calls each a few times; the forwards that cost. */
  private double callsThrough(Vertx vertx, Haproxy front, int sessions) {
    double before = forwarded(vertx);
    List<TunnelClient> clients = new ArrayList<>();
    List<Integer> handles = new ArrayList<>();
    for (int i = 0; i < sessions; i++) {
      TunnelClient c = new TunnelClient(vertx, "127.0.0.1", front.port(), "admin", "admin", 32768);
      handles.add(ClusterNodes.countingSession(c));
      clients.add(c);
    }
    for (int call = 2; call <= 4; call++) {
      for (int i = 0; i < sessions; i++) {
        assertThat(clients.get(i).execute(handles.get(i), 1).await()).as("session %d, call %d", i, call)
            .isEqualTo(call);
      }
    }
    return forwarded(vertx) - before;
  }

  private double forwarded(Vertx vertx) {
    return cluster.nodes().stream()
        .mapToDouble(node -> ClusterNodes.metric(vertx, node, "dstunnel_cluster_requests_forwarded_total")).sum();
  }
}
