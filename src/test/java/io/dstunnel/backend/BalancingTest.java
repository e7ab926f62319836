// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.dstunnel.Dstunnel;
import io.dstunnel.demo.TunnelClient;
import io.dstunnel.support.Backends;
import io.dstunnel.support.Backends.Server;
import io.dstunnel.support.Calls;
import io.dstunnel.support.Proxies;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** Where new sessions go: preferred priority, round-robin among equals, failback, last resort. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BalancingTest {

  @Test
  void equalPrioritiesShareNewSessionsAndStandbysGetNone(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "B");
    Server c = Backends.start(vertx, "C");
    Dstunnel proxy = Proxies.config().backend("a", a.port(), 0).backend("b", b.port(), 0)
        .backend("c", c.port(), 1).start(vertx);
    Map<String, Integer> seen = new HashMap<>();
    for (int i = 0; i < 20; i++) {
      seen.merge(Calls.newSessionServer(vertx, proxy), 1, Integer::sum);
    }
    assertThat(seen).containsOnlyKeys("A", "B");
    assertThat(seen.get("A")).isBetween(8, 12);
  }

  @Test
  void recoveredPreferredBackendGetsNewSessionsAgain(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "B");
    Dstunnel proxy = Proxies.config().backend("a", a.port(), 0).backend("b", b.port(), 1).start(vertx);
    assertThat(Calls.newSessionServer(vertx, proxy)).isEqualTo("A");
    a.kill();
    await().atMost(Duration.ofSeconds(10)).until(() -> !proxy.pool().backends().get(0).isUp());
    assertThat(Calls.newSessionServer(vertx, proxy)).isEqualTo("B");
    a.start();
    await().atMost(Duration.ofSeconds(10)).until(() -> proxy.pool().backends().get(0).isUp());
    assertThat(Calls.newSessionServer(vertx, proxy)).isEqualTo("A");
  }

  @Test
  void backendMarkedDownIsStillTriedAsALastResort(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    // A check interval of an hour: the mark from the first failure stays stale.
    Dstunnel proxy = Proxies.config().backend("a", a.port(), 0).set("health", "intervalMs", 3_600_000)
        .set("health", "fall", 1).set("health", "rise", 1).start(vertx);
    a.kill();
    TunnelClient failing = Proxies.client(vertx, proxy);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> failing.handshake().await());
    assertThat(proxy.pool().backends().get(0).isUp()).isFalse();
    a.start();
    assertThat(Calls.newSessionServer(vertx, proxy)).isEqualTo("A");
    assertThat(proxy.pool().backends().get(0).isUp()).isTrue();
  }

  @Test
  void candidateOrderPrefersHealthyLowPriorityAndPutsTheFailedOneLast() {
    io.dstunnel.config.ProxyConfig config = io.dstunnel.config.ProxyConfig.fromJson(
        Proxies.config().backend("p1", 1, 0).backend("p2", 2, 0).backend("s", 3, 1).set("health", "fall", 1).json());
    BackendPool pool = new BackendPool(config, new io.dstunnel.events.EventLog());
    Backend p1 = pool.backends().get(0);
    Backend p2 = pool.backends().get(1);
    Backend s = pool.backends().get(2);
    assertThat(pool.forNewSession().subList(0, 2)).containsExactlyInAnyOrder(p1, p2);
    assertThat(pool.forNewSession().get(2)).isEqualTo(s);
    pool.failure(p1, "test");
    assertThat(pool.forNewSession()).containsExactly(p2, s, p1);
    assertThat(pool.forFailover(p2)).containsExactly(s, p1, p2);
  }

  /**
   * Defect 8: the migration scan asked for the balancing order of every session at every tick
   * after a pool change, each time advancing round-robin credit (under the strategy's lock).
   * Asking whether a backend's sessions must move now leaves the strategy alone.
   */
  @Test
  void askingWhetherSessionsMustMoveLeavesRoundRobinAlone() {
    io.dstunnel.config.ProxyConfig config = io.dstunnel.config.ProxyConfig.fromJson(
        Proxies.config().backend("a", 1, 1).backend("b", 2, 0).backend("c", 3, 0)
            .set("pool", "strategy", "round-robin").json());
    BackendPool pool = new BackendPool(config, new io.dstunnel.events.EventLog());
    Backend a = pool.backends().stream().filter(b -> b.name().equals("a")).findFirst().orElseThrow();
    Backend first = pool.forNewSession().get(0);
    // Sessions on the standby "a" stay there (failback "new-sessions"): the scan asks, nothing moves.
    for (int tick = 0; tick < 3; tick++) {
      assertThat(pool.migrationTarget(a)).isNull();
      assertThat(pool.mustLeave(a)).isFalse();
    }
    assertThat(pool.forNewSession().get(0)).as("round-robin goes on alternating").isNotEqualTo(first);
  }

  @Test
  void sessionsLeaveADrainedOrWorsePriorityBackendOnlyWhenAnotherTakesThem() {
    io.dstunnel.config.ProxyConfig config = io.dstunnel.config.ProxyConfig.fromJson(
        Proxies.config().backend("p", 1, 0).backend("s", 2, 1).set("pool", "failback", "migrate-idle")
            .set("health", "fall", 1).json());
    BackendPool pool = new BackendPool(config, new io.dstunnel.events.EventLog());
    Backend p = pool.backends().get(0);
    Backend s = pool.backends().get(1);
    assertThat(pool.mustLeave(p)).isFalse();
    assertThat(pool.mustLeave(s)).as("failback to the recovered preferred backend").isTrue();
    assertThat(pool.migrationTarget(s)).isEqualTo(p);
    pool.failure(p, "test");
    assertThat(pool.mustLeave(s)).as("nowhere better to go").isFalse();
    assertThat(pool.mode("s", io.dstunnel.config.BackendMode.MIGRATE)).isTrue();
    assertThat(pool.mustLeave(s)).as("nobody else accepts sessions").isFalse();
  }
}
