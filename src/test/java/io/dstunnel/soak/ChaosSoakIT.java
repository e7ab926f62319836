// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.soak;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The chaos soak at a short setting: 20 s, 32 sessions. The default run is load-tests/chaos-soak.sh. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ChaosSoakIT {

  @Test
  void everyAnswerArrivesOnceAndInOrderWhileBackendsDieAndHang(Vertx vertx) {
    ChaosSoak.Result r = new ChaosSoak(vertx, 32, 20).run();
    System.out.println("chaos soak (short): " + r);
    assertThat(r.calls()).isPositive();
    assertThat(r.failovers()).isPositive();
    assertThat(r.lost()).isZero();
    assertThat(r.duplicated()).isZero();
    assertThat(r.errors()).isZero();
    assertThat(r.sessionsLeft()).isZero();
  }
}
