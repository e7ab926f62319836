// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.dstunnel.Dstunnel;
import io.dstunnel.config.BackendMode;
import io.dstunnel.config.ConfigWatcher;
import io.dstunnel.config.ProxyConfig;
import io.dstunnel.demo.TunnelClient;
import io.dstunnel.demo.TunnelClient.TunnelError;
import io.dstunnel.support.Backends;
import io.dstunnel.support.Backends.Server;
import io.dstunnel.support.Calls;
import io.dstunnel.support.MisbehavingBackend;
import io.dstunnel.support.MisbehavingBackend.Mode;
import io.dstunnel.support.Proxies;
import io.dstunnel.support.RawHttp;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Failback policies, hung backends, drain/migrate/disable, limits and hot reload, end to end. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PoolBehaviourTest {

  private static final Duration WAIT = Duration.ofSeconds(15);

  private static void awaitState(Dstunnel proxy, String name, BackendState state) {
    await().atMost(WAIT).until(() -> proxy.pool().byName(name).state() == state);
  }

  @Test
  void newSessionsFailbackLeavesExistingSessionsWhereTheyAre(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "B");
    Dstunnel proxy = Proxies.twoTier(a.port(), b.port()).start(vertx);
    Calls old = Calls.open(vertx, proxy);
    assertThat(old.server()).isEqualTo("A");
    a.kill();
    assertThat(old.server()).isEqualTo("B");
    a.start();
    awaitState(proxy, "a", BackendState.UP);
    assertThat(Calls.newSessionServer(vertx, proxy)).isEqualTo("A");
    assertThat(old.server()).isEqualTo("B");
  }

  @Test
  void migrateIdleFailbackMovesIdleSessionsBackWithTheirState(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "B");
    Dstunnel proxy = Proxies.twoTier(a.port(), b.port()).set("pool", "failback", "migrate-idle").start(vertx);
    TunnelClient c = Proxies.client(vertx, proxy);
    c.handshake().await();
    int inc = c.prepare("Increment").await();
    Calls probe = Calls.open(vertx, proxy);
    assertThat(c.execute(inc, 10).await()).isEqualTo(10);
    a.kill();
    assertThat(c.execute(inc, 1).await()).isEqualTo(11);
    assertThat(probe.server()).isEqualTo("B");
    a.start();
    await().atMost(WAIT).until(() -> "A".equals(probe.server()));
    // Each session verticle moves its own sessions on its own tick: wait for both to be back.
    await().atMost(WAIT).until(() -> proxy.pool().byName("a").sessions() == 2);
    assertThat(c.execute(inc, 1).await()).isEqualTo(12);
  }

  @Test
  void noFailbackKeepsARecoveredBackendOutUntilEnabled(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "B");
    Dstunnel proxy = Proxies.twoTier(a.port(), b.port()).set("pool", "failback", "none").start(vertx);
    a.kill();
    awaitState(proxy, "a", BackendState.DOWN);
    a.start();
    await().atMost(WAIT).until(() -> proxy.pool().byName("a").isUp());
    assertThat(Calls.newSessionServer(vertx, proxy)).isEqualTo("B");
    proxy.pool().mode("a", BackendMode.ACTIVE);
    assertThat(Calls.newSessionServer(vertx, proxy)).isEqualTo("A");
  }

  @Test
  void hungBackendIsFailedOverAfterTheAnswerTimeout(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "B");
    // Answers the filter query, connect and prepare (5 + 27 + 14 bytes), then never again.
    MisbehavingBackend hung = MisbehavingBackend.start(vertx, Mode.HANG_AFTER_BYTES, a.port(), 5 + 27 + 14);
    Dstunnel proxy = Proxies.config().backend("hung", hung.port(), 0).backend("b", b.port(), 1)
        .set("pool", "answerTimeoutMs", 300).start(vertx);
    Calls c = Calls.open(vertx, proxy);
    long start = System.nanoTime();
    assertThat(c.server()).isEqualTo("B");
    System.out.printf("hung backend: answer after %d ms with answerTimeoutMs 300%n",
        (System.nanoTime() - start) / 1_000_000);
    assertThat(c.server()).isEqualTo("B");
  }

  @Test
  void answerTimeoutLeavesSlowButLiveAnswersAlone(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "B");
    Dstunnel proxy = Proxies.twoTier(a.port(), b.port()).set("pool", "answerTimeoutMs", 2000).start(vertx);
    TunnelClient c = Proxies.client(vertx, proxy);
    c.handshake().await();
    int slow = c.prepare("SlowEcho").await();
    assertThat(c.execute(slow, 300, "slow").await()).isEqualTo("slow (Server A)");
  }

  @Test
  void drainKeepsSessionsAndSendsNewOnesElsewhere(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "B");
    Dstunnel proxy = Proxies.twoTier(a.port(), b.port()).start(vertx);
    Calls live = Calls.open(vertx, proxy);
    assertThat(live.server()).isEqualTo("A");
    proxy.pool().mode("a", BackendMode.DRAIN);
    assertThat(proxy.pool().byName("a").state()).isEqualTo(BackendState.DRAINING);
    assertThat(Calls.newSessionServer(vertx, proxy)).isEqualTo("B");
    assertThat(live.server()).isEqualTo("A");
  }

  @Test
  void migrateMovesLiveSessionsByReplayWithoutAnError(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "B");
    Dstunnel proxy = Proxies.twoTier(a.port(), b.port()).start(vertx);
    TunnelClient c = Proxies.client(vertx, proxy);
    c.handshake().await();
    int inc = c.prepare("Increment").await();
    assertThat(c.execute(inc, 5).await()).isEqualTo(5);
    Calls probe = Calls.open(vertx, proxy);
    proxy.pool().mode("a", BackendMode.MIGRATE);
    await().atMost(WAIT).until(() -> proxy.pool().byName("a").sessions() == 0);
    assertThat(probe.server()).isEqualTo("B");
    assertThat(c.execute(inc, 1).await()).isEqualTo(6);
    a.kill(); // patched with zero client errors
    assertThat(c.execute(inc, 1).await()).isEqualTo(7);
  }

  @Test
  void disabledBackendIsNotEvenALastResort(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "B");
    Dstunnel proxy = Proxies.twoTier(a.port(), b.port()).start(vertx);
    proxy.pool().mode("a", BackendMode.DISABLE);
    b.kill();
    TunnelClient c = Proxies.client(vertx, proxy);
    assertThatThrownBy(() -> c.handshake().await())
        .isInstanceOfSatisfying(TunnelError.class, e -> assertThat(e.status()).isEqualTo(502));
    proxy.pool().mode("a", BackendMode.ACTIVE);
    assertThat(Calls.newSessionServer(vertx, proxy)).isEqualTo("A");
  }

  @Test
  void fullBackendsOverflowToTheNextPriorityThen503(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "B");
    Proxies config = Proxies.twoTier(a.port(), b.port());
    config.json().getJsonArray("backends").getJsonObject(0).put("maxSessions", 2);
    config.json().getJsonArray("backends").getJsonObject(1).put("maxSessions", 1);
    Dstunnel proxy = config.start(vertx);
    assertThat(Calls.open(vertx, proxy).server()).isEqualTo("A");
    assertThat(Calls.open(vertx, proxy).server()).isEqualTo("A");
    assertThat(Calls.open(vertx, proxy).server()).isEqualTo("B");
    TunnelClient c = Proxies.client(vertx, proxy);
    assertThatThrownBy(() -> c.handshake().await())
        .isInstanceOfSatisfying(TunnelError.class, e -> assertThat(e.status()).isEqualTo(503));
  }

  @Test
  void reloadedConfigAppliesWithoutDroppingASession(Vertx vertx, @TempDir Path dir) throws Exception {
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "B");
    Server c = Backends.start(vertx, "C");
    Path file = dir.resolve("dstunnel.json");
    JsonObject json = Proxies.twoTier(a.port(), b.port()).json();
    Files.writeString(file, json.encodePrettily());
    ConfigWatcher watcher = new ConfigWatcher(vertx, file, 100);
    Dstunnel proxy = Dstunnel.start(vertx, watcher.current().await()).await();
    watcher.listen(proxy::reload);
    Calls live = Calls.open(vertx, proxy);
    assertThat(live.server()).isEqualTo("A");

    // A typo is reported and ignored.
    Files.writeString(file, "{\"backends\": [ {\"port\": \"x\"} ]}");
    await().atMost(WAIT).until(() -> watcher.rejected() == 1);
    assertThat(Calls.newSessionServer(vertx, proxy)).isEqualTo("A");

    // Remove a, add c at the preferred priority: a drains, new sessions go to c.
    JsonObject next = json.copy();
    next.getJsonArray("backends").remove(0);
    next.getJsonArray("backends").add(new JsonObject().put("name", "c").put("port", c.port()).put("priority", 0));
    Files.writeString(file, next.encodePrettily());
    await().atMost(WAIT).until(() -> proxy.pool().byName("c") != null);
    assertThat(proxy.pool().byName("a").state()).isEqualTo(BackendState.DRAINING);
    assertThat(Calls.newSessionServer(vertx, proxy)).isEqualTo("C");
    assertThat(live.server()).isEqualTo("A");
    live.close();
    await().atMost(WAIT).until(() -> proxy.pool().byName("a") == null);
    watcher.close();
  }

  @Test
  void dbxHealthCheckNeedsAFilterAnswer(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    MisbehavingBackend silent = MisbehavingBackend.start(vertx, Mode.HANG, a.port(), 0);
    Proxies config = Proxies.config().backend("silent", silent.port(), 0).backend("a", a.port(), 1)
        .set("health", "intervalMs", 50).set("health", "fall", 2).set("health", "timeoutMs", 200)
        .set("health", "kind", "dbx");
    Dstunnel proxy = config.start(vertx);
    // The silent server accepts connections, so a tcp check would pass; the dbx check does not.
    awaitState(proxy, "silent", BackendState.DOWN);
    assertThat(proxy.pool().byName("a").state()).isEqualTo(BackendState.UP);
    assertThat(ProxyConfig.fromJson(config.json()).backends().get(0).health().kind().key()).isEqualTo("dbx");
  }

  /**
   * A backend removed by a reload leaves /metrics: its {@code dstunnel_backend_up} no longer reads 0
   * for ever (the alert on a down backend fired on a healthy node until a restart).
   */
  @Test
  void aBackendRemovedByAReloadLeavesTheMetrics(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "B");
    Proxies config = Proxies.config().backend("a", a.port(), 0).backend("gone", b.port(), 0);
    Dstunnel proxy = config.start(vertx);
    OperatorClient admin = OperatorClient.of(vertx, proxy);
    assertThat(admin.get("/metrics").body().toString())
        .contains("dstunnel_backend_up{backend=\"gone\"}");
    config.json().getJsonArray("backends").remove(1);
    proxy.reload(ProxyConfig.fromJson(config.json()));
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> proxy.pool().byName("gone") == null);
    String metrics = admin.get("/metrics").body().toString();
    assertThat(metrics).contains("dstunnel_backend_up{backend=\"a\"} 1.0")
        .doesNotContain("dstunnel_backend_up{backend=\"gone\"} 0.0");
  }

  @Test
  void drainSetThroughTheAdminApiOutlivesAReloadThatLeavesThatBackendsModeAlone(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "B");
    Proxies config = Proxies.config().backend("a", a.port(), 0).backend("b", b.port(), 0);
    Dstunnel proxy = config.start(vertx);
    OperatorClient admin = OperatorClient.of(vertx, proxy);
    assertThat(admin.post("/admin/backends/a/drain").status()).isEqualTo(200);

    // An unrelated edit: b's weight.
    config.json().getJsonArray("backends").getJsonObject(1).put("weight", 3);
    proxy.reload(ProxyConfig.fromJson(config.json()));
    JsonObject aNow = admin.get("/admin/backends").json().getJsonArray("backends")
        .getJsonObject(0);
    assertThat(aNow.getString("mode")).isEqualTo("drain");
    assertThat(aNow.getString("modeSource")).isEqualTo("admin");

    // The file changes a's own mode: the file is the operator's word now.
    config.json().getJsonArray("backends").getJsonObject(0).put("mode", "disable");
    proxy.reload(ProxyConfig.fromJson(config.json()));
    assertThat(proxy.pool().byName("a").mode()).isEqualTo(BackendMode.DISABLE);
    assertThat(proxy.pool().byName("a").modeSource()).isEqualTo("config");
  }

  /**
   * Defect 9: a reload ignored {@code pool.connectTimeoutMs} (the NetClient kept the start-up
   * value). The primary here never completes a TCP handshake: with the start-up timeout of ten
   * minutes a new session would wait that long; after the reload it fails over to the standby.
   */
  @Test
  void reloadedConnectTimeoutAppliesToTheNextConnect(Vertx vertx) throws Exception {
    try (io.dstunnel.support.Blackhole primary = io.dstunnel.support.Blackhole.start()) {
      Server b = Backends.start(vertx, "B");
      Proxies config = Proxies.config().backend("primary", primary.port(), 0).backend("standby", b.port(), 1)
          .set("pool", "connectTimeoutMs", 600_000).set("health", "intervalMs", 3_600_000)
          .set("health", "fall", 100);
      Dstunnel proxy = config.start(vertx);
      config.json().getJsonObject("pool").put("connectTimeoutMs", 300);
      proxy.reload(ProxyConfig.fromJson(config.json()));
      assertThat(Calls.newSessionServer(vertx, proxy)).isEqualTo("B");
    }
  }

  /** The proxy's admin API, asked as an operator (the test configuration's admin credentials). */
  private record OperatorClient(RawHttp http, String authorization) {

    static OperatorClient of(Vertx vertx, Dstunnel proxy) {
      return new OperatorClient(new RawHttp(vertx, proxy.adminPort()), RawHttp.basic("admin", "admin"));
    }

    RawHttp.Answer get(String path) {
      return http.get(path, "Authorization", authorization);
    }

    /** A POST with an empty body. */
    RawHttp.Answer post(String path) {
      return http.send(HttpMethod.POST, path, Buffer.buffer(), "Authorization", authorization);
    }
  }
}
