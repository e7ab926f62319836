// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.hardening;

import static io.dstunnel.support.RawHttp.basic;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.dstunnel.demo.TunnelClient;
import io.dstunnel.support.Backends;
import io.dstunnel.support.Backends.Server;
import io.dstunnel.support.Proxies;
import io.dstunnel.support.ProxyProcess;
import io.dstunnel.support.RawHttp;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
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
 * The proxy as a whole has a memory budget: in a 256 MiB heap, 300 sessions each owed a
 * 1,000,000-byte answer that their clients do not read yet (about 300 MB in all, more than the heap) neither exhaust
 * the heap nor lose a byte; the proxy stays alive and answers its probes, and every answer arrives
 * whole once the clients read.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MemoryBudgetIT {

  private static final int SESSIONS = 300;
  private static final int ANSWER = 1_000_000;

  @Test
  void unreadAnswersOfManySessionsStayWithinTheBudgetAndAllArriveWhole(Vertx vertx, @TempDir Path dir)
      throws Exception {
    Server a = Backends.start(vertx, "A");
    ProxyProcess[] shown = {null};
    try (ProxyProcess proxy = ProxyProcess.start(dir, Proxies.config().backend("a", a.port(), 0).json(),
        "-Xmx256m", "-XX:+ExitOnOutOfMemoryError")) {
      shown[0] = proxy;
      List<TunnelClient> clients = new ArrayList<>();
      for (int i = 0; i < SESSIONS; i++) {
        TunnelClient c = new TunnelClient(vertx, "127.0.0.1", proxy.port(), "admin", "admin", 1 << 20);
        c.handshake().await();
        c.write(TunnelClient.executeRequest(c.prepare("Blob").await(), ANSWER)).await();
        clients.add(c);
      }
      RawHttp admin = new RawHttp(vertx, proxy.adminPort());
      // The budget (a quarter of the heap) fills up, and the proxy holds there, alive.
      await().atMost(Duration.ofSeconds(60)).until(() -> metric(admin, "dstunnel_answer_budget_used_bytes")
          >= metric(admin, "dstunnel_answer_budget_limit_bytes"));
      assertThat(admin.get("/health/live").status()).isEqualTo(200);
      assertThat(proxy.process().isAlive()).isTrue();

      // Each client reads its own session, as each Delphi client does, all at once.
      List<Future<Buffer>> reads = clients.stream().map(TunnelClient::readMessage).toList();
      Future.all(reads).await();
      for (Future<Buffer> read : reads) {
        Buffer answer = read.result();
        assertThat(answer.length()).isEqualTo(ANSWER + ("{\"result\":[{\"data\":[" + ANSWER + ",]}]}").length());
        for (int i = 0; i < ANSWER; i += 9973) {
          assertThat(answer.getByte(answer.length() - 4 - ANSWER + i)).isEqualTo((byte) (i % 251));
        }
      }
      assertThat(admin.get("/health/live").status()).isEqualTo(200);
      assertThat(metric(admin, "dstunnel_answer_budget_used_bytes")).isZero();
    } catch (Throwable e) {
      System.err.println("the proxy printed:\n" + (shown[0] == null ? "" : shown[0].output()));
      throw e;
    }
  }

  private static double metric(RawHttp admin, String name) {
    String text = admin.get("/metrics", "Authorization", basic("admin", "admin")).body().toString();
    return text.lines().filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }
}
