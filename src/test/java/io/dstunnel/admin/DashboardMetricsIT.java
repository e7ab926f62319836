// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.admin;

import static io.dstunnel.support.RawHttp.basic;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.dstunnel.demo.TunnelClient;
import io.dstunnel.support.Backends;
import io.dstunnel.support.Backends.Server;
import io.dstunnel.support.Proxies;
import io.dstunnel.support.ProxyProcess;
import io.dstunnel.support.RawHttp;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * conf/grafana-dashboard.json and conf/prometheus-alerts.yml query only metrics that a real
 * dstunnel exports. One process runs as a cluster of one member (cluster.enabled: the cluster's
 * meters exist only then; every single-node meter is there too), serves a session, fails it over
 * (the meters with labels appear on their first count), and its /metrics is read. A name counts as
 * exported when /metrics has a sample of it, or it is the base of a histogram's {@code _bucket},
 * {@code _count} and {@code _sum}. The same node's /admin/nodes gives the status page's cluster data.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DashboardMetricsIT {

  private static final Pattern METRIC = Pattern.compile("\\bdstunnel_[a-zA-Z0-9_:]+");
  private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]");

  @Test
  void theDashboardAndTheAlertsQueryOnlyExportedMetrics(Vertx vertx, @TempDir Path dir) throws Exception {
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "B");
    int member = ProxyProcess.freePort();
    JsonObject config = Proxies.config().backend("a", a.port(), 0).backend("b", b.port(), 1)
        .set("health", "intervalMs", 100).set("health", "fall", 1).json()
        .put("cluster", new JsonObject().put("enabled", true)
            .put("name", "metrics-it-" + ProcessHandle.current().pid() + "-" + System.nanoTime())
            .put("host", "127.0.0.1").put("port", member).put("members", new JsonArray().add("127.0.0.1:" + member))
            .put("secret", io.dstunnel.support.ClusterNodes.SECRET));
    try (ProxyProcess node = ProxyProcess.start(dir, config)) {
      TunnelClient c = new TunnelClient(vertx, "127.0.0.1", node.port(), "admin", "admin", 32768);
      c.handshake().await();
      int echo = c.prepare("EchoString").await();
      assertThat((String) c.execute(echo, "x").await()).contains("Server A");
      a.kill();
      assertThat((String) c.execute(echo, "y").await()).contains("Server B");

      RawHttp admin = new RawHttp(vertx, node.adminPort());
      await().atMost(Duration.ofSeconds(20)).until(() -> metrics(admin).contains("dstunnel_failovers_total"));
      Set<String> exported = exported(metrics(admin));
      assertThat(exported).contains("dstunnel_sessions_open", "dstunnel_cluster_members",
          "dstunnel_replay_duration_seconds");

      Set<String> queried = new TreeSet<>();
      queried.addAll(names(Path.of("conf/grafana-dashboard.json")));
      queried.addAll(names(Path.of("conf/prometheus-alerts.yml")));
      assertThat(queried).as("the dashboard and the alerts cover sessions, failovers, backends, latency, cluster")
          .contains("dstunnel_sessions_open", "dstunnel_failovers_total", "dstunnel_backend_up",
              "dstunnel_read_wait_seconds_bucket", "dstunnel_replay_duration_seconds_bucket", "dstunnel_cluster_members",
              "dstunnel_cluster_sessions_adopted_total", "dstunnel_cluster_adoptions_failed_total",
              "dstunnel_cluster_copy_failures_total");
      assertThat(queried).as("queried but not exported by /metrics").isSubsetOf(exported);

      // The status page's node panel in cluster mode: this node, by address, with its id and member address.
      JsonObject nodes = admin.get("/admin/nodes", "Authorization", basic("admin", "admin")).json();
      assertThat(nodes.getBoolean("clustered")).isTrue();
      JsonObject self = nodes.getJsonArray("nodes").getJsonObject(0);
      assertThat(self.getString("address")).isEqualTo("127.0.0.1:" + node.port());
      assertThat(self.getString("member")).isEqualTo("127.0.0.1:" + member);
      assertThat(self.getString("node")).isNotBlank();
      assertThat(self.getString("state")).isEqualTo("serving");
      assertThat(self.getInteger("sessions")).isEqualTo(1);
      assertThat(self.getBoolean("self")).isTrue();
    }
  }

  /** The grafana dashboard parses as JSON (a panel's query is a string in it). */
  @Test
  void theDashboardIsJsonWithPanelsAndQueries() throws IOException {
    JsonObject dashboard = new JsonObject(Files.readString(Path.of("conf/grafana-dashboard.json")));
    assertThat(dashboard.getString("uid")).isEqualTo("dstunnel");
    long queries = dashboard.getJsonArray("panels").stream().map(JsonObject.class::cast)
        .filter(p -> p.containsKey("targets")).flatMap(p -> p.getJsonArray("targets").stream()).count();
    assertThat(queries).isGreaterThan(20);
  }

  private static String metrics(RawHttp admin) {
    return admin.get("/metrics", "Authorization", basic("admin", "admin")).body().toString();
  }

  /** The metric names /metrics has samples of, with the base names of histograms and summaries. */
  static Set<String> exported(String text) {
    Set<String> names = new TreeSet<>();
    for (String line : text.split("\n")) {
      Matcher m = SAMPLE.matcher(line);
      if (!line.startsWith("#") && m.find()) {
        String name = m.group(1);
        names.add(name);
        names.add(name.replaceFirst("_(bucket|count|sum)$", ""));
      }
    }
    return names;
  }

  /** Every dstunnel_* name a file mentions. */
  static Set<String> names(Path file) throws IOException {
    Set<String> names = new TreeSet<>();
    Matcher m = METRIC.matcher(Files.readString(file));
    while (m.find()) {
      names.add(m.group());
    }
    return names;
  }
}
