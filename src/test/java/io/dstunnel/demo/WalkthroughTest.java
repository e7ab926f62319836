// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.demo;

import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The demo command's walk-through runs end to end; it fails if either answer is not the expected one. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WalkthroughTest {

  @Test
  void secondCallIsAnsweredByTheStandbyAfterThePrimaryDies(Vertx vertx) {
    new Walkthrough(vertx).run().await();
  }
}
