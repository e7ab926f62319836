// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.admin;

import static io.dstunnel.support.RawHttp.basic;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.dstunnel.Dstunnel;
import io.dstunnel.support.Backends;
import io.dstunnel.support.Backends.Server;
import io.dstunnel.support.Calls;
import io.dstunnel.support.Proxies;
import io.dstunnel.support.RawHttp;
import io.dstunnel.support.RawHttp.Answer;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The admin listener over real HTTP: probes, metrics, the admin API and the page's files. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AdminTest {

  private static final String ADMIN = basic("admin", "admin");

  @Test
  void probesNeedNoCredentialsAndReadinessFollowsTheBackends(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Dstunnel proxy = Proxies.config().backend("a", a.port(), 0).set("health", "intervalMs", 50)
        .set("health", "fall", 1).start(vertx);
    RawHttp admin = new RawHttp(vertx, proxy.adminPort());
    assertThat(admin.get("/health/live").status()).isEqualTo(200);
    assertThat(admin.get("/health/ready").status()).isEqualTo(200);
    a.kill();
    await().atMost(Duration.ofSeconds(10)).until(() -> admin.get("/health/ready").status() == 503);
    assertThat(admin.get("/health/live").status()).isEqualTo(200);
    // The health history says what happened in plain words, not Netty's exception text.
    String reasons = admin.get("/admin/events", "Authorization", ADMIN).json().getJsonArray("health").encode();
    assertThat(reasons).contains("health check failed: connection refused").doesNotContain("/127.0.0.1:");
  }

  /**
   * A page on a DNS name rebound to the admin listener's address reaches it with that name as its
   * Host: refused (403) before credentials or origin are looked at, also with no users configured;
   * IP addresses, localhost and admin.allowedHosts are answered; the probes answer any Host. Before,
   * the CSRF guard took the request's own Host for the listener's origin, so such a page could
   * drain a backend.
   */
  @Test
  void aRequestForAnotherHostNameIsRefusedBeforeAnythingElse(Vertx vertx) {
    Dstunnel proxy = Proxies.config().backend("a", Backends.start(vertx, "A").port(), 0).noAuth()
        .set("admin", "allowedHosts", new io.vertx.core.json.JsonArray().add("dstunnel.example")).start(vertx);
    RawHttp admin = new RawHttp(vertx, proxy.adminPort());
    Answer rebound = admin.send(HttpMethod.POST, "/admin/backends/a/drain", null, "Host", "attacker.example:" + proxy.adminPort(),
        "Origin", "http://attacker.example:" + proxy.adminPort());
    assertThat(rebound.status()).isEqualTo(403);
    assertThat(rebound.error()).contains("attacker.example");
    assertThat(admin.get("/admin/backends", "Host", "attacker.example").status()).isEqualTo(403);
    assertThat(admin.get("/admin/backends").json().getJsonArray("backends").getJsonObject(0).getString("mode"))
        .as("not drained").isEqualTo("active");
    assertThat(admin.get("/admin/backends", "Host", "localhost:" + proxy.adminPort()).status()).isEqualTo(200);
    assertThat(admin.get("/admin/backends", "Host", "dstunnel.example").status()).isEqualTo(200);
    assertThat(admin.get("/health/live", "Host", "attacker.example").status()).isEqualTo(200);
  }

  /**
   * The status page's charts and node panel: a sample every 5 s of requests per second, open
   * sessions, failovers and read wait; and this node's address, state, sessions, uptime, version.
   */
  @Test
  void historyAndNodesFeedTheStatusPage(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Dstunnel proxy = Proxies.config().backend("a", a.port(), 0).start(vertx);
    RawHttp admin = new RawHttp(vertx, proxy.adminPort());
    assertThat(admin.get("/admin/history").status()).isEqualTo(401);
    assertThat(admin.get("/admin/nodes").status()).isEqualTo(401);
    JsonObject first = admin.get("/admin/history", "Authorization", ADMIN).json();
    assertThat(first.getLong("intervalMs")).isEqualTo(5000L);
    assertThat(first.getJsonArray("samples")).hasSize(1);
    Calls session = Calls.open(vertx, proxy);
    assertThat(session.server()).isEqualTo("A");
    await().atMost(Duration.ofSeconds(15)).until(() -> admin.get("/admin/history", "Authorization", ADMIN).json()
        .getJsonArray("samples").size() >= 2);
    JsonArray samples = admin.get("/admin/history", "Authorization", ADMIN).json().getJsonArray("samples");
    JsonObject last = samples.getJsonObject(samples.size() - 1);
    assertThat(last.fieldNames()).contains("at", "requestsPerSecond", "sessions", "failovers", "readWaitMs");
    assertThat(last.getDouble("requestsPerSecond")).isPositive();
    assertThat(last.getInteger("sessions")).isEqualTo(1);
    assertThat(last.getLong("failovers")).isZero();
    assertThat(last.getDouble("readWaitMs")).isNotNull();

    JsonObject nodes = admin.get("/admin/nodes", "Authorization", ADMIN).json();
    assertThat(nodes.getBoolean("clustered")).isFalse();
    assertThat(nodes.getJsonArray("nodes")).hasSize(1);
    JsonObject self = nodes.getJsonArray("nodes").getJsonObject(0);
    assertThat(self.getString("address")).endsWith(":" + proxy.port());
    assertThat(self.getString("state")).isEqualTo("serving");
    assertThat(self.getInteger("sessions")).isEqualTo(1);
    assertThat(self.getLong("uptimeMs")).isPositive();
    assertThat(self.getString("version")).isNotBlank();
    assertThat(self.getBoolean("self")).isTrue();
  }

  @Test
  void everythingButTheProbesNeedsCredentials(Vertx vertx) {
    Dstunnel proxy = Proxies.config().backend("a", Backends.start(vertx, "A").port(), 0).start(vertx);
    RawHttp admin = new RawHttp(vertx, proxy.adminPort());
    for (String path : new String[] {"/metrics", "/admin/backends", "/admin/sessions", "/admin/events", "/admin/"}) {
      Answer a = admin.get(path);
      assertThat(a.status()).as(path).isEqualTo(401);
      assertThat(a.headers().get("WWW-Authenticate")).startsWith("Basic");
      assertThat(admin.get(path, "Authorization", basic("admin", "nope")).status()).as(path).isEqualTo(401);
      assertThat(admin.get(path, "Authorization", ADMIN).status()).as(path).isEqualTo(200);
    }
  }

  @Test
  void metricsShowSessionsFailoversRequestsAndBackends(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "B");
    Dstunnel proxy = Proxies.twoTier(a.port(), b.port()).start(vertx);
    Calls c = Calls.open(vertx, proxy);
    assertThat(c.server()).isEqualTo("A");
    a.kill();
    assertThat(c.server()).isEqualTo("B");
    await().atMost(Duration.ofSeconds(10)).until(() -> !proxy.pool().byName("a").isUp());
    String text = new RawHttp(vertx, proxy.adminPort()).get("/metrics", "Authorization", ADMIN).body().toString();
    assertThat(text)
        .contains("dstunnel_sessions_open 1.0")
        .contains("dstunnel_sessions_opened_total 1.0")
        // "idle-close" when the proxy saw A's connection close before the next call's write, "closed"
        // when the write went out first (a loaded machine): either way one failover from a to b.
        .containsPattern("dstunnel_failovers_total\\{from=\"a\",reason=\"(idle-close|closed)\",to=\"b\"} 1.0")
        .contains("dstunnel_replay_duration_seconds_bucket")
        .contains("dstunnel_replay_bytes_count 1")
        .containsPattern("dstunnel_tunnel_requests_total\\{kind=\"open\",status=\"200\"} 1.0")
        .containsPattern("dstunnel_tunnel_requests_total\\{kind=\"read\",status=\"200\"}")
        .containsPattern("dstunnel_backend_up\\{backend=\"a\"} 0.0")
        .containsPattern("dstunnel_backend_up\\{backend=\"b\"} 1.0")
        .containsPattern("dstunnel_health_checks_total\\{backend=\"a\",result=\"failed\"}")
        .contains("dstunnel_bytes_in_bytes_total")
        .contains("dstunnel_read_wait_seconds_count");
  }

  @Test
  void backendsCanBeDrainedMigratedDisabledAndEnabled(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "B");
    Dstunnel proxy = Proxies.twoTier(a.port(), b.port()).start(vertx);
    RawHttp admin = new RawHttp(vertx, proxy.adminPort());
    Calls live = Calls.open(vertx, proxy);
    assertThat(live.server()).isEqualTo("A");
    JsonArray list = admin.get("/admin/backends", "Authorization", ADMIN).json().getJsonArray("backends");
    assertThat(list.getJsonObject(0).getString("name")).isEqualTo("a");
    assertThat(list.getJsonObject(0).getString("state")).isEqualTo("UP");
    assertThat(list.getJsonObject(0).getInteger("sessions")).isEqualTo(1);

    Answer drained = admin.send(HttpMethod.POST, "/admin/backends/a/drain", null, "Authorization", ADMIN);
    assertThat(drained.json().getString("state")).isEqualTo("DRAINING");
    assertThat(Calls.newSessionServer(vertx, proxy)).isEqualTo("B");
    assertThat(live.server()).isEqualTo("A");

    admin.send(HttpMethod.POST, "/admin/backends/a/migrate", null, "Authorization", ADMIN);
    await().atMost(Duration.ofSeconds(10)).until(() -> proxy.pool().byName("a").sessions() == 0);
    assertThat(live.server()).isEqualTo("B");

    assertThat(admin.send(HttpMethod.POST, "/admin/backends/a/disable", null, "Authorization", ADMIN)
        .json().getString("state")).isEqualTo("DISABLED");
    assertThat(admin.send(HttpMethod.POST, "/admin/backends/a/enable", null, "Authorization", ADMIN)
        .json().getString("state")).isEqualTo("UP");
    assertThat(Calls.newSessionServer(vertx, proxy)).isEqualTo("A");
    assertThat(admin.send(HttpMethod.POST, "/admin/backends/zz/drain", null, "Authorization", ADMIN).status())
        .isEqualTo(404);
    assertThat(admin.send(HttpMethod.POST, "/admin/backends/a/explode", null, "Authorization", ADMIN).status())
        .isEqualTo(404);
  }

  @Test
  void sessionsArePagedFilteredAndCanBeClosed(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "B");
    Dstunnel proxy = Proxies.config().backend("a", a.port(), 0).backend("b", b.port(), 0).start(vertx);
    RawHttp admin = new RawHttp(vertx, proxy.adminPort());
    for (int i = 0; i < 6; i++) {
      Calls.open(vertx, proxy);
    }
    JsonObject all = admin.get("/admin/sessions?size=4", "Authorization", ADMIN).json();
    assertThat(all.getInteger("total")).isEqualTo(6);
    assertThat(all.getJsonArray("sessions")).hasSize(4);
    assertThat(admin.get("/admin/sessions?size=4&page=1", "Authorization", ADMIN).json().getJsonArray("sessions"))
        .hasSize(2);
    JsonObject onA = admin.get("/admin/sessions?backend=a", "Authorization", ADMIN).json();
    assertThat(onA.getInteger("total")).isEqualTo(3);
    assertThat(admin.get("/admin/sessions?user=eve", "Authorization", ADMIN).json().getInteger("total")).isZero();
    JsonObject first = all.getJsonArray("sessions").getJsonObject(0);
    assertThat(first.fieldNames()).doesNotContain("log", "password");
    String id = first.getString("id");
    assertThat(admin.send(HttpMethod.DELETE, "/admin/sessions/" + id, null, "Authorization", ADMIN).status())
        .isEqualTo(200);
    assertThat(new RawHttp(vertx, proxy.port()).get("/datasnap/tunnel?dss=" + id + "&c=10").status()).isEqualTo(404);
    assertThat(admin.get("/admin/sessions", "Authorization", ADMIN).json().getInteger("total")).isEqualTo(5);
    assertThat(admin.send(HttpMethod.DELETE, "/admin/sessions/" + id, null, "Authorization", ADMIN).status())
        .isEqualTo(404);
    assertThat(admin.get("/admin/sessions?size=0", "Authorization", ADMIN).status()).isEqualTo(400);
  }

  @Test
  void eventsKeepTheFailoverTimelineAndHealthHistory(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "B");
    Dstunnel proxy = Proxies.twoTier(a.port(), b.port()).start(vertx);
    Calls c = Calls.open(vertx, proxy);
    c.server();
    a.kill();
    c.server();
    RawHttp admin = new RawHttp(vertx, proxy.adminPort());
    await().atMost(Duration.ofSeconds(10)).until(() -> admin.get("/admin/events", "Authorization", ADMIN).json()
        .getJsonArray("health").stream().anyMatch(h -> "DOWN".equals(((JsonObject) h).getString("state"))));
    JsonObject f = admin.get("/admin/events", "Authorization", ADMIN).json().getJsonArray("failovers").getJsonObject(0);
    assertThat(f.getString("from")).isEqualTo("a");
    assertThat(f.getString("to")).isEqualTo("b");
    assertThat(f.getLong("replayedBytes")).isPositive();
    assertThat(admin.get("/admin/", "Authorization", ADMIN).body().toString()).contains("<title>dstunnel status");
  }

  @Test
  void aKnownPathAskedWithTheWrongMethodIs405AndAnUnknownOne404(Vertx vertx) {
    Dstunnel proxy = Proxies.config().backend("a", Backends.start(vertx, "A").port(), 0).start(vertx);
    RawHttp admin = new RawHttp(vertx, proxy.adminPort());
    Answer wrongMethod = admin.get("/admin/backends/a/drain", "Authorization", ADMIN);
    assertThat(wrongMethod.status()).isEqualTo(405);
    assertThat(wrongMethod.json().getString("error")).isEqualTo("Method not allowed");
    Answer unknown = admin.get("/admin/nothing-here", "Authorization", ADMIN);
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(unknown.json().getString("error")).isEqualTo("Not found");
  }
}
