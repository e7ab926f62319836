// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.logging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.dstunnel.auth.Passwords;
import io.dstunnel.demo.TunnelClient;
import io.dstunnel.support.Backends;
import io.dstunnel.support.Backends.Server;
import io.dstunnel.support.ClusterNodes;
import io.dstunnel.support.ProxyProcess;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an operator sees on stdout, from a real process: a clean start logs no warning (single
 * node, and a clustered node), text lines are readable, JSON lines are flat objects. A single node
 * opens a session (an {@code open} event with its fields).
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LogOutputIT {

  private static final String TEXT_LINE =
      "\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} (TRACE|DEBUG|INFO |WARN |ERROR) \\S+ +\\S.*";

  /** A production-like config: hashed passwords (a plain one is worth a warning), one backend. */
  private static JsonObject config(Server backend) {
    return new JsonObject()
        .put("http", new JsonObject().put("host", "127.0.0.1"))
        .put("backends", new JsonArray().add(new JsonObject().put("name", "a").put("host", "127.0.0.1")
            .put("port", backend.port())))
        .put("auth", new JsonObject().put("users", new JsonArray().add(new JsonObject().put("name", "admin")
            .put("passwordHash", Passwords.hash("admin")).put("roles", new JsonArray().add("tunnel").add("admin")))));
  }

  /**
   * Opens a session through the proxy (if {@code session}) and returns every line the proxy printed
   * until then. A warning at start-up (Vert.x's, Micrometer's, the cluster manager's) comes before the first
   * request is answered.
   */
  private static List<String> runOnce(Vertx vertx, ProxyProcess proxy, boolean session) throws Exception {
    if (session) {
      TunnelClient c = new TunnelClient(vertx, "127.0.0.1", proxy.port(), "admin", "admin", 32768);
      c.handshake().await();
      await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(proxy.output())
          .containsAnyOf(" open session=", "\"message\":\"open\""));
    }
    return proxy.output().lines().toList();
  }

  @Test
  void textLinesAreReadableAndACleanStartWarnsOfNothing(Vertx vertx, @TempDir Path dir) throws Exception {
    Server a = Backends.start(vertx, "A");
    try (ProxyProcess proxy = ProxyProcess.start(dir, config(a))) {
      List<String> lines = runOnce(vertx, proxy, true);
      assertThat(lines).as("every line: date, time, level, logger, message").allMatch(l -> l.matches(TEXT_LINE));
      assertThat(lines).noneMatch(l -> l.matches("\\S+ \\S+ (WARN|ERROR) .*"));
      assertThat(lines).anyMatch(l -> l.matches(".* INFO  events +open session=\\S+ user=admin backend=a bytes=\\d+"));
      assertThat(lines).noneMatch(l -> l.contains("share an event loop"));
    }
  }

  @Test
  void jsonLinesAreFlatObjectsWhenTheConfigAsks(Vertx vertx, @TempDir Path dir) throws Exception {
    Server a = Backends.start(vertx, "A");
    JsonObject config = config(a).put("log", new JsonObject().put("format", "json"));
    try (ProxyProcess proxy = ProxyProcess.start(dir, config)) {
      List<JsonObject> lines = runOnce(vertx, proxy, true).stream().map(JsonObject::new).toList();
      for (JsonObject line : lines) {
        assertThat(line.fieldNames()).contains("time", "level", "logger", "message");
        assertThat(line.getMap().values()).as("flat: no nested object or array in " + line)
            .noneMatch(v -> v instanceof java.util.Map || v instanceof List);
        assertThat(line.getString("level")).isIn("INFO", "DEBUG");
      }
      JsonObject open = lines.stream().filter(l -> "open".equals(l.getString("message"))).findFirst().orElseThrow();
      assertThat(open.getString("logger")).isEqualTo("dstunnel.events");
      assertThat(open.getString("user")).isEqualTo("admin");
      assertThat(open.getString("backend")).isEqualTo("a");
      assertThat(open.getString("session")).isNotBlank();
      assertThat(open.getValue("bytes")).isInstanceOf(Integer.class);
    }
  }

  @Test
  void aClusteredNodeStartsWithoutWarningAndNamesItselfOnce(Vertx vertx, @TempDir Path dir) throws Exception {
    Server a = Backends.start(vertx, "A");
    int member = ProxyProcess.freePort();
    JsonObject config = config(a).put("cluster", new JsonObject().put("enabled", true)
        .put("name", "log-it-" + ProcessHandle.current().pid() + "-" + System.nanoTime())
        .put("host", "127.0.0.1").put("port", member).put("members", new JsonArray().add("127.0.0.1:" + member))
        .put("secret", ClusterNodes.SECRET));
    try (ProxyProcess proxy = ProxyProcess.start(dir, config)) {
      List<String> lines = runOnce(vertx, proxy, true);
      assertThat(lines).allMatch(l -> l.matches(TEXT_LINE));
      assertThat(lines).as("no warning: Infinispan's global state, Micrometer's gauges")
          .noneMatch(l -> l.matches("\\S+ \\S+ (WARN|ERROR) .*"));
      assertThat(lines).filteredOn(l -> l.contains("dstunnel cluster joined (1 members): this node is "))
          .singleElement().asString().contains("over mutual TLS from cluster.secret");
    }
  }

  /**
   * A config file edited into something that does not parse (here a value left unquoted, as a
   * pasted key would be) is said once, with where the parser stopped, and never with the text it
   * read. Before, vertx-config logged the parser's message at every scan, quoting the value.
   */
  @Test
  void aConfigFileThatDoesNotParseIsSaidWithoutItsText(Vertx vertx, @TempDir Path dir) throws Exception {
    Server a = Backends.start(vertx, "A");
    try (ProxyProcess proxy = ProxyProcess.start(dir, config(a))) {
      Path file = dir.resolve("dstunnel-" + proxy.port() + ".json");
      String pasted = "pastedKeyNotQuoted0123456789abcdefghijkl";
      java.nio.file.Files.writeString(file, java.nio.file.Files.readString(file).replaceFirst("\\{",
          "{\"comment\": " + pasted + ","));
      await().atMost(Duration.ofSeconds(30)).until(() -> proxy.output().contains("config change ignored"));
      assertThat(proxy.output().lines().filter(l -> l.contains("config change ignored")))
          .singleElement().asString().contains("not a valid JSON object (line 1, column");
      assertThat(proxy.output()).doesNotContain(pasted).doesNotContain("Error while scanning");
    }
  }
}
