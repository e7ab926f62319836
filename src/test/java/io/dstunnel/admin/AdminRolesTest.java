// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.admin;

import static io.dstunnel.support.RawHttp.basic;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.dstunnel.Dstunnel;
import io.dstunnel.config.BackendMode;
import io.dstunnel.demo.TunnelClient;
import io.dstunnel.support.Backends;
import io.dstunnel.support.Proxies;
import io.dstunnel.support.RawHttp;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

/**
 * Least privilege on the admin side, over real HTTP: the role matrix, actions refused when they
 * may come from another site, and the audit trail.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AdminRolesTest {

  private static final String OPERATOR = basic("olga", "op-pass");
  private static final String CLIENT = basic("tina", "client-pass");
  private static final String PROMETHEUS = basic("pete", "scrape-pass");

  private static Dstunnel proxy(Vertx vertx) {
    Proxies config = Proxies.config().backend("a", Backends.start(vertx, "A").port(), 0)
        .backend("b", Backends.start(vertx, "B").port(), 1);
    config.json().put("auth", new JsonObject().put("users", new JsonArray()
        .add(new JsonObject().put("name", "tina").put("password", "client-pass"))
        .add(new JsonObject().put("name", "olga").put("password", "op-pass").put("roles", new JsonArray().add("admin")))
        .add(new JsonObject().put("name", "pete").put("password", "scrape-pass")
            .put("roles", new JsonArray().add("metrics")))));
    return config.start(vertx);
  }

  private static String[] auth(String header) {
    return header == null ? new String[0] : new String[] {"Authorization", header};
  }

  @Test
  void eachRoleOpensOnlyItsOwnDoor(Vertx vertx) {
    Dstunnel proxy = proxy(vertx);
    RawHttp tunnel = new RawHttp(vertx, proxy.port());
    RawHttp admin = new RawHttp(vertx, proxy.adminPort());
    Map<String, String> who = new LinkedHashMap<>();
    who.put("tunnel", CLIENT);
    who.put("admin", OPERATOR);
    who.put("metrics", PROMETHEUS);
    who.put("none", null);
    // user -> {tunnel open, admin API, status page, metrics}
    Map<String, List<Integer>> expected = Map.of(
        "tunnel", List.of(200, 403, 403, 403),
        "admin", List.of(401, 200, 200, 200),
        "metrics", List.of(401, 403, 403, 200),
        "none", List.of(401, 401, 401, 401));
    who.forEach((role, header) -> {
      List<Integer> seen = List.of(
          tunnel.put("/datasnap/tunnel?dss=0&c=5", TunnelClient.FILTER_QUERY, auth(header)).status(),
          admin.get("/admin/backends", auth(header)).status(),
          admin.get("/admin/", auth(header)).status(),
          admin.get("/metrics", auth(header)).status());
      assertThat(seen).as("user with role %s: tunnel, admin API, status page, metrics", role)
          .isEqualTo(expected.get(role));
    });
    // A tunnel user may not act on backends either, and the attempt is on the record.
    assertThat(admin.send(HttpMethod.POST, "/admin/backends/a/drain", Buffer.buffer(), "Authorization", CLIENT).status())
        .isEqualTo(403);
    assertThat(proxy.pool().byName("a").mode()).isEqualTo(BackendMode.ACTIVE);
    JsonObject refused = lastAudit(admin);
    assertThat(refused.getString("user")).isEqualTo("tina");
    assertThat(refused.getString("result")).startsWith("forbidden");
    // The probes stay open to all.
    assertThat(admin.get("/health/live").status()).isEqualTo(200);
  }

  @Test
  void actionsThatMayComeFromAnotherSiteAreRefusedAndScriptsAndThePageAreNot(Vertx vertx) {
    Dstunnel proxy = proxy(vertx);
    RawHttp admin = new RawHttp(vertx, proxy.adminPort());
    String drain = "/admin/backends/a/drain";
    String own = "http://127.0.0.1:" + proxy.adminPort();

    assertThat(admin.send(HttpMethod.POST, drain, Buffer.buffer(), "Authorization", OPERATOR,
        "Origin", "http://evil.example", "X-Requested-With", "XMLHttpRequest").status()).isEqualTo(403);
    assertThat(admin.send(HttpMethod.POST, drain, Buffer.buffer(), "Authorization", OPERATOR,
        "Sec-Fetch-Site", "cross-site", "X-Requested-With", "XMLHttpRequest").status()).isEqualTo(403);
    assertThat(admin.send(HttpMethod.DELETE, "/admin/sessions/abc", null, "Authorization", OPERATOR,
        "Origin", "null").status()).isEqualTo(403);
    // A browser's form (its user agent, its Origin) cannot add X-Requested-With.
    assertThat(admin.send(HttpMethod.POST, drain, Buffer.buffer(), "Authorization", OPERATOR,
        "Origin", own, "Sec-Fetch-Site", "same-origin", "User-Agent", "Mozilla/5.0").status()).isEqualTo(403);
    assertThat(admin.send(HttpMethod.POST, drain, Buffer.buffer(), "Authorization", OPERATOR,
        "User-Agent", "Mozilla/5.0 (X11; Linux x86_64)").status()).isEqualTo(403);
    assertThat(proxy.pool().byName("a").mode()).as("nothing refused changed anything").isEqualTo(BackendMode.ACTIVE);
    JsonObject refused = lastAudit(admin);
    assertThat(refused.getString("action")).isEqualTo("drain");
    assertThat(refused.getString("result")).startsWith("refused");

    // The status page's own request: same origin, with the header.
    assertThat(admin.send(HttpMethod.POST, drain, Buffer.buffer(), "Authorization", OPERATOR, "Origin", own,
        "Sec-Fetch-Site", "same-origin", "User-Agent", "Mozilla/5.0", "X-Requested-With", "dstunnel-status").status())
        .isEqualTo(200);
    assertThat(proxy.pool().byName("a").mode()).isEqualTo(BackendMode.DRAIN);
    // A script (curl) shows no browser's marks: it needs no extra header.
    assertThat(admin.send(HttpMethod.POST, "/admin/backends/a/enable", Buffer.buffer(), "Authorization", OPERATOR,
        "User-Agent", "curl/8.14.1").status()).isEqualTo(200);
    assertThat(proxy.pool().byName("a").mode()).isEqualTo(BackendMode.ACTIVE);
    // GETs change nothing: an action's path asked with GET is 405.
    assertThat(admin.get(drain, "Authorization", OPERATOR).status()).isEqualTo(405);
    assertThat(proxy.pool().byName("a").mode()).isEqualTo(BackendMode.ACTIVE);
  }

  @Test
  void everyAdminActionLeavesOneAuditLineWithWhoWhatWhereAndTheResult(Vertx vertx) {
    ListAppender<ILoggingEvent> log = new ListAppender<>();
    Logger events = (Logger) LoggerFactory.getLogger("dstunnel.events");
    ch.qos.logback.classic.Level quiet = events.getLevel();
    events.setLevel(ch.qos.logback.classic.Level.INFO);
    log.start();
    events.addAppender(log);
    try {
      Dstunnel proxy = proxy(vertx);
      RawHttp admin = new RawHttp(vertx, proxy.adminPort());
      TunnelClient session = new TunnelClient(vertx, "127.0.0.1", proxy.port(), "tina", "client-pass", 32768);
      session.handshake().await();
      admin.send(HttpMethod.POST, "/admin/backends/a/drain", Buffer.buffer(), "Authorization", OPERATOR);
      admin.send(HttpMethod.POST, "/admin/backends/nobody/disable", Buffer.buffer(), "Authorization", OPERATOR);
      admin.send(HttpMethod.DELETE, "/admin/sessions/" + session.sessionId(), null, "Authorization", OPERATOR);

      JsonArray audit = admin.get("/admin/events", "Authorization", OPERATOR).json().getJsonArray("audit");
      assertThat(audit).hasSize(3);
      assertThat(audit.getJsonObject(0).copy().put("at", 0)).isEqualTo(new JsonObject().put("user", "olga")
          .put("action", "drain").put("target", "backend a").put("from", "127.0.0.1").put("result", "ok").put("at", 0));
      assertThat(audit.getJsonObject(1).getString("result")).isEqualTo("not found");
      assertThat(audit.getJsonObject(2).getString("action")).isEqualTo("close-session");
      assertThat(audit.getJsonObject(2).getString("target")).isEqualTo("session " + session.sessionId());
      assertThat(audit.getJsonObject(2).getString("result")).isEqualTo("ok");

      List<String> lines = log.list.stream().filter(e -> e.getMessage().equals("audit"))
          .map(e -> String.valueOf(e.getKeyValuePairs())).toList();
      assertThat(lines).hasSize(3);
      assertThat(lines.get(0)).contains("user=\"olga\"", "action=\"drain\"", "target=\"backend a\"",
          "from=\"127.0.0.1\"", "result=\"ok\"");
      for (String secret : List.of("op-pass", "client-pass", OPERATOR.substring(6))) {
        assertThat(lines).noneMatch(l -> l.contains(secret));
      }
    } finally {
      events.detachAppender(log);
      events.setLevel(quiet);
    }
  }

  @Test
  void usersButNoOperatorWarnsThatTheAdminSideIsClosed(Vertx vertx) {
    ListAppender<ILoggingEvent> log = new ListAppender<>();
    Logger logger = (Logger) LoggerFactory.getLogger(AdminVerticle.class);
    log.start();
    logger.addAppender(log);
    try {
      Proxies config = Proxies.config().backend("a", Backends.start(vertx, "A").port(), 0);
      config.json().put("auth", new JsonObject().put("users", new JsonArray()
          .add(new JsonObject().put("name", "tina").put("password", "client-pass"))));
      Dstunnel proxy = config.start(vertx);
      assertThat(log.list).anyMatch(e -> e.getFormattedMessage().contains("no user in auth.users has the admin role"));
      assertThat(new RawHttp(vertx, proxy.adminPort()).get("/admin/backends", "Authorization", CLIENT).status())
          .isEqualTo(403);
    } finally {
      logger.detachAppender(log);
    }
  }

  private static JsonObject lastAudit(RawHttp admin) {
    JsonArray audit = admin.get("/admin/events", "Authorization", OPERATOR).json().getJsonArray("audit");
    return audit.getJsonObject(audit.size() - 1);
  }
}
