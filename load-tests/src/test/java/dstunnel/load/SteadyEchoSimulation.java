// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package dstunnel.load;

import static io.gatling.javaapi.core.CoreDsl.atOnceUsers;
import static io.gatling.javaapi.core.CoreDsl.during;
import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.scenario;

import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import java.time.Duration;

/**
 * (a) Steady load: {@code -Dusers} tunnel sessions (default 64), each calling EchoString back to
 * back for {@code -Dseconds} (default 60). Also used for (c), failover under load, where the driver
 * kills the primary mid-run: the assertion is the same, no failed request.
 */
public class SteadyEchoSimulation extends Simulation {

  private final int users = Integer.getInteger("users", 64);
  private final Duration duration = Duration.ofSeconds(Integer.getInteger("seconds", 60));

  private final ScenarioBuilder sessions = scenario("EchoString sessions")
      .exec(Tunnel.HANDSHAKE)
      .exec(during(duration).on(Tunnel.CALL))
      .exec(Tunnel.CLOSE);

  {
    setUp(sessions.injectOpen(atOnceUsers(users))).protocols(Tunnel.protocol())
        .assertions(global().failedRequests().count().is(0L));
  }
}
