// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package dstunnel.load;

import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.incrementConcurrentUsers;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.core.CoreDsl.forever;

import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import java.time.Duration;

/**
 * (b) Ramp to saturation: concurrent sessions grow by {@code -Dstep} (default 16) every
 * {@code -Dlevel} seconds (default 10), {@code -Dlevels} times (default 8, up to 128 sessions);
 * the report's throughput and latency per level show where the proxy saturates.
 */
public class RampSimulation extends Simulation {

  private final int step = Integer.getInteger("step", 16);
  private final int levels = Integer.getInteger("levels", 8);
  private final Duration level = Duration.ofSeconds(Integer.getInteger("level", 10));

  private final ScenarioBuilder sessions = scenario("EchoString ramp")
      .exec(Tunnel.HANDSHAKE)
      .exec(forever().on(Tunnel.CALL));

  {
    setUp(sessions.injectClosed(incrementConcurrentUsers(step).times(levels).eachLevelLasting(level)
        .separatedByRampsLasting(Duration.ofSeconds(1)).startingFrom(step)))
        .protocols(Tunnel.protocol())
        .maxDuration(level.plusSeconds(1).multipliedBy(levels + 1))
        .assertions(global().failedRequests().percent().lt(1.0));
  }
}
