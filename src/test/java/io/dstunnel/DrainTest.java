// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** A leaving node's wait for requests to stop coming ends, whether they stop or not. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class DrainTest {

  @Test
  void theWaitForQuietEndsAtTheDrainTimeoutWhileRequestsKeepComing(Vertx vertx) {
    AtomicInteger answered = new AtomicInteger();
    // Every look finds more requests answered: clients that talk to the node directly never stop.
    Future<Void> quiet = new Drain(vertx, 1, 300).untilQuiet(answered::incrementAndGet, 60_000);
    quiet.await();
    assertThat(answered.get()).as("looked more than once").isGreaterThan(1);
  }

  @Test
  void theWaitForQuietEndsOnceRequestsStopComing(Vertx vertx) {
    AtomicInteger answered = new AtomicInteger();
    Future<Void> quiet = new Drain(vertx, 1, 600_000).untilQuiet(
        () -> answered.get() < 5 ? answered.incrementAndGet() : answered.get(), 100);
    quiet.await();
    assertThat(answered.get()).isEqualTo(5);
  }
}
