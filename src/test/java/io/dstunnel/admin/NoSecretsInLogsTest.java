// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.admin;

import static io.dstunnel.support.RawHttp.basic;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.dstunnel.Dstunnel;
import io.dstunnel.demo.TunnelClient;
import io.dstunnel.support.Backends;
import io.dstunnel.support.Backends.Server;
import io.dstunnel.support.Proxies;
import io.dstunnel.support.RawHttp;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

/** Every log line of a busy run, at every level, is searched for passwords and credentials. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NoSecretsInLogsTest {

  private static final String PASSWORD = "Tr0ub4dor&3";
  private static final String DBX_PASSWORD = "dbx-secret-42";

  private final ListAppender<ILoggingEvent> captured = new ListAppender<>();
  private Logger root;
  private final java.util.Map<Logger, Level> previous = new java.util.HashMap<>();

  @BeforeEach
  void capture() {
    root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    // Every line at every level, including the loggers the test config quiets.
    for (String name : List.of(org.slf4j.Logger.ROOT_LOGGER_NAME, "io.dstunnel", "dstunnel.events", "io.vertx")) {
      Logger logger = (Logger) LoggerFactory.getLogger(name);
      previous.put(logger, logger.getLevel());
      logger.setLevel(Level.TRACE);
    }
    captured.start();
    root.addAppender(captured);
  }

  @AfterEach
  void release() {
    root.detachAppender(captured);
    previous.forEach(Logger::setLevel);
  }

  @Test
  void noPasswordOrAuthorizationHeaderReachesALogLine(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "B");
    Proxies config = Proxies.config().backend("a", a.port(), 0).backend("b", b.port(), 1);
    config.json().put("auth", new JsonObject().put("users", new JsonArray()
        .add(new JsonObject().put("name", "admin").put("password", PASSWORD)
            .put("roles", new JsonArray().add("tunnel").add("admin")))));
    Dstunnel proxy = config.start(vertx);
    String header = basic("admin", PASSWORD);
    RawHttp http = new RawHttp(vertx, proxy.port());
    http.put("/datasnap/tunnel?dss=0&c=5", TunnelClient.FILTER_QUERY, "Authorization", basic("admin", "wrong-pass"));
    TunnelClient c = new TunnelClient(vertx, "127.0.0.1", proxy.port(), "admin", PASSWORD, 32768);
    c.handshake().await();
    c.call(Buffer.buffer("{\"method\":\"connect\",\"params\":[{\"DSAuthenticationUser\":\"u\",\"DSAuthenticationPassword\":\""
        + DBX_PASSWORD + "\"}]}")).await();
    a.kill();
    c.execute(c.prepare("EchoString").await(), "after failover").await();
    assertThat(new RawHttp(vertx, proxy.adminPort()).get("/admin/sessions", "Authorization", header).status())
        .isEqualTo(200);
    // An audited action, and one refused as cross-site: their audit lines carry no credential either.
    assertThat(new RawHttp(vertx, proxy.adminPort()).send(io.vertx.core.http.HttpMethod.POST, "/admin/backends/b/drain",
        Buffer.buffer(), "Authorization", header, "X-Requested-With", "test").status()).isEqualTo(200);
    assertThat(new RawHttp(vertx, proxy.adminPort()).send(io.vertx.core.http.HttpMethod.POST, "/admin/backends/b/enable",
        Buffer.buffer(), "Authorization", header, "Origin", "http://evil.example").status()).isEqualTo(403);
    new RawHttp(vertx, proxy.adminPort()).get("/metrics", "Authorization", basic("admin", "bad-admin-pass"));
    c.close().await();

    List<String> lines = captured.list.stream()
        .map(e -> e.getFormattedMessage() + " " + e.getKeyValuePairs() + " "
            + (e.getThrowableProxy() == null ? "" : ch.qos.logback.classic.spi.ThrowableProxyUtil.asString(e.getThrowableProxy())))
        .toList();
    assertThat(lines).isNotEmpty();
    assertThat(lines).anyMatch(l -> l.contains("failover"));
    assertThat(lines).anyMatch(l -> l.startsWith("audit") && l.contains("result=\"ok\""));
    assertThat(lines).anyMatch(l -> l.startsWith("audit") && l.contains("refused"));
    for (String secret : List.of(PASSWORD, DBX_PASSWORD, "wrong-pass", "bad-admin-pass", header.substring(6))) {
      assertThat(lines).noneMatch(l -> l.contains(secret));
    }
    assertThat(lines).noneMatch(l -> l.contains("Basic "));
  }
}
