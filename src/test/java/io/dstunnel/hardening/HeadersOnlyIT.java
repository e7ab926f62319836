// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.hardening;

import static io.dstunnel.support.RawHttp.basic;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.dstunnel.support.Backends;
import io.dstunnel.support.Proxies;
import io.dstunnel.support.ProxyProcess;
import io.dstunnel.support.RawHttp;
import io.dstunnel.support.Sockets;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A request's memory follows the bytes that arrived, not the length it declared: 200 connections
 * that each announce a 1 MiB body and send none cost a 96 MiB heap nothing (a buffer sized from
 * Content-Length would need 200 MiB); each gets its 408 and the proxy lives on.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class HeadersOnlyIT {

  @Test
  void connectionsThatOnlyDeclareLargeBodiesCostNoMemory(Vertx vertx, @TempDir Path dir) throws Exception {
    var config = Proxies.config().backend("a", Backends.start(vertx, "A").port(), 0)
        .set("http", "requestTimeoutMs", 5000).json();
    try (ProxyProcess proxy = ProxyProcess.start(dir, config, "-Xmx96m", "-XX:+ExitOnOutOfMemoryError")) {
      List<Buffer> answers = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        Buffer got = Buffer.buffer();
        answers.add(got);
        NetSocket s = Sockets.connect(vertx, proxy.port()).await();
        s.handler(chunk -> {
          synchronized (got) {
            got.appendBuffer(chunk);
          }
        });
        s.write("PUT /datasnap/tunnel?dss=0 HTTP/1.1\r\nHost: x\r\nAuthorization: " + basic("admin", "admin")
            + "\r\nContent-Length: 1048576\r\n\r\n").await();
      }
      await().atMost(Duration.ofSeconds(60)).until(() -> answers.stream().allMatch(a -> {
        synchronized (a) {
          return a.toString().contains("408 Request body not received");
        }
      }));
      assertThat(proxy.process().isAlive()).isTrue();
      assertThat(new RawHttp(vertx, proxy.adminPort()).get("/health/live").status()).isEqualTo(200);
    }
  }
}
