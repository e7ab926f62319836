// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.hardening;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dstunnel.Dstunnel;
import io.dstunnel.support.Backends;
import io.dstunnel.support.Backends.Server;
import io.dstunnel.support.Proxies;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The tunnel port: one port however many HTTP instances, and a clear word when it is taken. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class PortsTest {

  @Test
  void portZeroBindsOneRandomPortSharedByEveryInstance(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Dstunnel proxy = Proxies.config().backend("a", a.port(), 0).set("http", "port", 0).set("http", "instances", 3)
        .start(vertx);
    assertThat(proxy.tunnelPorts()).containsExactly(proxy.port());
  }

  @Test
  void aPortInUseSaysWhichPortAndWhatToDo(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Dstunnel first = Proxies.config().backend("a", a.port(), 0).set("http", "port", 0).start(vertx);
    assertThatThrownBy(() -> Proxies.config().backend("a", a.port(), 0).set("http", "port", first.port())
        .set("admin", "enabled", false).start(vertx))
        .hasMessageContaining("port " + first.port() + " (http.port) is already in use");
  }
}
