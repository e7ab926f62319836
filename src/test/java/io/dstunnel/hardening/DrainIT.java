// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.hardening;

import static io.dstunnel.support.RawHttp.basic;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.dstunnel.Dstunnel;
import io.dstunnel.demo.TunnelClient;
import io.dstunnel.support.Backends;
import io.dstunnel.support.Backends.Server;
import io.dstunnel.support.Proxies;
import io.dstunnel.support.ProxyProcess;
import io.dstunnel.support.RawHttp;
import io.dstunnel.support.RawHttp.Answer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Graceful shutdown: no session loses an answer it was owed. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class DrainIT {

  @Test
  void drainRefusesNewSessionsAndWaitsForTheAnswersOwed(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Dstunnel proxy = Proxies.config().backend("a", a.port(), 0).start(vertx);
    TunnelClient c = Proxies.client(vertx, proxy);
    c.handshake().await();
    int slow = c.prepare("SlowEcho").await();
    c.write(TunnelClient.executeRequest(slow, 800, "owed")).await();
    Future<Void> drained = proxy.drain();
    RawHttp http = new RawHttp(vertx, proxy.port());
    Answer refused = http.put("/datasnap/tunnel?dss=0&c=5", TunnelClient.FILTER_QUERY, "Authorization",
        basic("admin", "admin"));
    assertThat(refused.status()).isEqualTo(503);
    assertThat(refused.error()).isEqualTo("Proxy is draining");
    assertThat(new RawHttp(vertx, proxy.adminPort()).get("/health/ready").status()).isEqualTo(503);
    assertThat(drained.isComplete()).isFalse();
    assertThat(new JsonObject(c.readMessage().await()).getJsonArray("result").getString(0)).isEqualTo("owed (Server A)");
    drained.await();
  }

  @Test
  void sigtermDrainsAndExitsZeroWithTheAnswerDelivered(Vertx vertx, @TempDir Path dir) throws Exception {
    Server a = Backends.start(vertx, "A");
    try (ProxyProcess running = ProxyProcess.start(dir, Proxies.config().backend("a", a.port(), 0).json())) {
      Process proxy = running.process();
      int port = running.port();
      TunnelClient c = new TunnelClient(vertx, "127.0.0.1", port, "admin", "admin", 32768);
      c.handshake().await();
      int slow = c.prepare("SlowEcho").await();
      c.write(TunnelClient.executeRequest(slow, 1000, "last words")).await();
      proxy.destroy(); // SIGTERM
      assertThat(new JsonObject(c.readMessage().await()).getJsonArray("result").getString(0))
          .isEqualTo("last words (Server A)");
      assertThat(proxy.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(proxy.exitValue()).isZero();
    }
  }

  /**
   * The operator who pressed Ctrl-C (or whose supervisor sent SIGTERM) is told what the process
   * still waits for, and until when, then how it ended.
   */
  @Test
  void sigtermSaysWhatTheDrainWaitsForAndUntilWhen(Vertx vertx, @TempDir Path dir) throws Exception {
    Server a = Backends.start(vertx, "A");
    JsonObject config = Proxies.config().backend("a", a.port(), 0).set("session", "drainTimeoutMs", 60_000).json();
    try (ProxyProcess running = ProxyProcess.start(dir, config)) {
      TunnelClient c = new TunnelClient(vertx, "127.0.0.1", running.port(), "admin", "admin", 32768);
      c.handshake().await();
      int slow = c.prepare("SlowEcho").await();
      c.write(TunnelClient.executeRequest(slow, 4000, "owed")).await();
      running.signal("TERM");
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(running.output())
          .contains("SIGTERM received: stopping gracefully")
          .contains("stopping: new sessions are refused, 1 open")
          .containsPattern("draining: waiting for 1 session owed an answer .*, until \\d\\d:\\d\\d:\\d\\d at the latest"
              + " \\(session.drainTimeoutMs 60000 ms\\)"));
      assertThat(new JsonObject(c.readMessage().await()).getJsonArray("result").getString(0)).isEqualTo("owed (Server A)");
      assertThat(running.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(running.process().exitValue()).isZero();
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(running.output())
          .containsPattern("drained: no session is owed an answer \\(\\d+ ms\\)")
          .contains("stopped: exiting 0"));
    }
  }

  /** Ctrl-C twice: the second one ends the process at once, the answer still owed or not. */
  @Test
  void aSecondSignalExitsAtOnceWithoutWaitingForTheDrain(Vertx vertx, @TempDir Path dir) throws Exception {
    Server a = Backends.start(vertx, "A");
    JsonObject config = Proxies.config().backend("a", a.port(), 0).set("session", "drainTimeoutMs", 600_000).json();
    try (ProxyProcess running = ProxyProcess.start(dir, config)) {
      TunnelClient c = new TunnelClient(vertx, "127.0.0.1", running.port(), "admin", "admin", 32768);
      c.handshake().await();
      int slow = c.prepare("SlowEcho").await();
      c.write(TunnelClient.executeRequest(slow, 600_000, "never")).await();
      running.signal("INT");
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(running.output())
          .contains("SIGINT received: stopping gracefully (send it again to exit at once)")
          .contains("draining: waiting for 1 session owed an answer"));
      running.signal("INT");
      assertThat(running.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(running.process().exitValue()).isEqualTo(130);
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(running.output())
          .contains("SIGINT again: exiting now, without waiting for the drain"));
    }
  }
}
