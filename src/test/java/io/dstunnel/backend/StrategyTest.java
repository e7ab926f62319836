// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.backend;

import io.dstunnel.config.PoolConfig;
import static org.assertj.core.api.Assertions.assertThat;

import io.dstunnel.config.ProxyConfig;
import io.dstunnel.events.EventLog;
import io.dstunnel.support.Proxies;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * How each balancing strategy spreads new sessions, measured over many choices. Sessions are
 * counted as attached to the chosen backend, as a real open would do.
 */
class StrategyTest {

  private static BackendPool pool(String strategy, int... weights) {
    Proxies p = Proxies.config().set("pool", "strategy", strategy);
    for (int i = 0; i < weights.length; i++) {
      p.backend("b" + i, 1000 + i, 0);
      p.json().getJsonArray("backends").getJsonObject(i).put("weight", weights[i]);
    }
    p.backend("standby", 2000, 1);
    return new BackendPool(ProxyConfig.fromJson(p.json()), new EventLog());
  }

  /** Chooses {@code n} times, attaching each choice; the share of each backend. */
  private static Map<String, Double> shares(BackendPool pool, int n, boolean attach) {
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < n; i++) {
      Backend b = pool.forNewSession().get(0);
      if (attach) {
        b.attached();
      }
      counts.merge(b.name(), 1, Integer::sum);
    }
    Map<String, Double> shares = new HashMap<>();
    counts.forEach((k, v) -> shares.put(k, v / (double) n));
    System.out.printf("%s%n", new java.util.TreeMap<>(shares));
    return shares;
  }

  @Test
  void roundRobinSharesEquallyAndExactly() {
    Map<String, Double> s = shares(pool("round-robin", 5, 1, 1), 3000, true);
    assertThat(s).containsOnlyKeys("b0", "b1", "b2");
    s.values().forEach(v -> assertThat(v).isCloseTo(1 / 3.0, org.assertj.core.data.Offset.offset(0.001)));
  }

  @Test
  void weightedFollowsTheWeightsWithin2Percent() {
    Map<String, Double> s = shares(pool("weighted", 1, 2, 3), 6000, true);
    assertThat(s.get("b0")).isCloseTo(1 / 6.0, org.assertj.core.data.Offset.offset(0.02));
    assertThat(s.get("b1")).isCloseTo(2 / 6.0, org.assertj.core.data.Offset.offset(0.02));
    assertThat(s.get("b2")).isCloseTo(3 / 6.0, org.assertj.core.data.Offset.offset(0.02));
  }

  @Test
  void leastSessionsFillsTheEmptiestFirst() {
    BackendPool pool = pool("least-sessions", 1, 1, 1);
    for (int i = 0; i < 30; i++) {
      pool.backends().get(0).attached();
    }
    shares(pool, 90, true);
    List<Backend> bs = pool.backends();
    assertThat(bs.get(0).sessions()).isEqualTo(40);
    assertThat(bs.get(1).sessions()).isEqualTo(40);
    assertThat(bs.get(2).sessions()).isEqualTo(40);
  }

  @Test
  void powerOfTwoChoicesBalancesWithin5Percent() {
    BackendPool pool = pool("power-of-two-choices", 1, 1, 1, 1);
    Map<String, Double> s = shares(pool, 4000, true);
    s.values().forEach(v -> assertThat(v).isCloseTo(0.25, org.assertj.core.data.Offset.offset(0.05)));
    int min = pool.backends().stream().filter(b -> b.priority() == 0).mapToInt(Backend::sessions).min().orElseThrow();
    int max = pool.backends().stream().filter(b -> b.priority() == 0).mapToInt(Backend::sessions).max().orElseThrow();
    assertThat(max - min).isLessThanOrEqualTo(40);
  }

  /** Share of {@code back} over 1,000 choices when its slow-start ramp stands at {@code ramp}. */
  private static double shareAtRamp(List<Backend> group, Backend back, double ramp) {
    BalancingStrategy strategy = BalancingStrategy.of(PoolConfig.Strategy.ROUND_ROBIN);
    int chosen = 0;
    for (int i = 0; i < 1000; i++) {
      if (strategy.order(group, b -> b == back ? ramp : 1.0).get(0) == back) {
        chosen++;
      }
    }
    return chosen / 1000.0;
  }

  @Test
  void slowStartRampsARecoveredBackendUp() {
    Proxies p = Proxies.config().set("pool", "slowStartMs", 2000).set("health", "fall", 1).set("health", "rise", 1)
        .backend("old", 1000, 0).backend("back", 1001, 0);
    BackendPool pool = new BackendPool(ProxyConfig.fromJson(p.json()), new EventLog());
    Backend back = pool.backends().get(1);
    pool.failure(back, "test");
    pool.success(back, "test");
    long recovered = System.nanoTime();
    long window = 2_000_000_000L;
    // The ramp, read at chosen instants rather than slept to: 0 at recovery, half-way after 1 s, full after 2 s.
    double early = back.ramp(recovered, window);
    double middle = back.ramp(recovered + window / 2, window);
    double late = back.ramp(recovered + window + 1, window);
    assertThat(early).isLessThan(0.05);
    assertThat(middle).isCloseTo(0.5, org.assertj.core.data.Offset.offset(0.05));
    assertThat(late).isEqualTo(1.0);
    // What those ramps give the recovered backend of new sessions, next to one that never left.
    List<Backend> group = pool.backends();
    assertThat(shareAtRamp(group, back, early)).isLessThan(0.1);
    assertThat(shareAtRamp(group, back, middle)).isBetween(0.15, 0.45);
    assertThat(shareAtRamp(group, back, late)).isCloseTo(0.5, org.assertj.core.data.Offset.offset(0.01));
  }

  @Test
  void riseAndFallCountObservationsInARow() {
    Proxies p = Proxies.config().set("health", "fall", 3).set("health", "rise", 2).backend("a", 1000, 0);
    BackendPool pool = new BackendPool(ProxyConfig.fromJson(p.json()), new EventLog());
    Backend a = pool.backends().get(0);
    pool.failure(a, "1");
    pool.failure(a, "2");
    pool.success(a, "breaks the run");
    pool.failure(a, "1");
    pool.failure(a, "2");
    assertThat(a.state()).isEqualTo(BackendState.UP);
    pool.failure(a, "3");
    assertThat(a.state()).isEqualTo(BackendState.DOWN);
    pool.success(a, "1");
    assertThat(a.state()).isEqualTo(BackendState.DOWN);
    pool.success(a, "2");
    assertThat(a.state()).isEqualTo(BackendState.UP);
  }
}
