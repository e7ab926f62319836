// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.dstunnel.demo.DemoRestVerticle;
import io.dstunnel.demo.TunnelClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Proxy processes on loopback forming one cluster (real cluster-manager members), each with its own
 * config: the tests' way to start a cluster, kill, pause or stop its nodes, and ask their admin side.
 * Registered as a test's extension ({@code @RegisterExtension}), it stops the nodes after each test
 * and prints what they said when one fails.
 */
public final class ClusterNodes implements AutoCloseable, AfterEachCallback, TestWatcher {

  private static final String ADMIN = RawHttp.basic("admin", "admin");
  /** The tests' cluster key ({@code cluster.secret}): every node the tests start as a member holds it. */
  public static final String SECRET = "it-cluster-key-0123456789-abcdefghijklmnopqrstuvwxyz";

  private final List<ProxyProcess> nodes = new ArrayList<>();
  private final List<JsonObject> configs = new ArrayList<>();
  private Path dir;

  /** The nodes started so far, in order. */
  public List<ProxyProcess> nodes() {
    return nodes;
  }

  public ProxyProcess get(int i) {
    return nodes.get(i);
  }

  /** The config node {@code i} started with (a copy). */
  public JsonObject config(int i) {
    return configs.get(i).copy();
  }

  /** The backend list of one server, "a". */
  public static JsonArray only(Backends.Server backend) {
    return new JsonArray().add(new JsonObject().put("name", "a").put("host", "127.0.0.1").put("port", backend.port())
        .put("priority", 0));
  }

  /**
   * One backend, "a": a demo server with a REST side (a {@link DemoRestVerticle} deployed on
   * {@code vertx}), for tests of REST sessions in a cluster.
   */
  public static JsonArray withRest(Vertx vertx) {
    DemoRestVerticle rest = new DemoRestVerticle("127.0.0.1", 0, "A");
    vertx.deployVerticle(rest).await();
    JsonArray backends = only(Backends.start(vertx, "A"));
    backends.getJsonObject(0).put("httpPort", rest.actualPort());
    return backends;
  }

  /**
   * Starts {@code count} nodes with {@code backends}, {@code suspectAfterMs} and {@code backups}; {@code more}
   * changes each node's config before it starts. Returns once every node serves and has seen them all.
   */
  public List<ProxyProcess> start(Path dir, int count, JsonArray backends, long suspectAfterMs, int backups,
                                  Consumer<JsonObject> more) throws Exception {
    return start(dir, count, backends, suspectAfterMs, backups, more, null);
  }

  /**
   * As {@link #start(Path, int, JsonArray, long, int, Consumer)}, with every node's member and
   * event-bus ports reached by the others through {@code network}'s relays, node {@code i}'s in
   * group {@code "i"}, its event-bus port's part of it {@code "i/bus"} (null: directly).
   */
  public List<ProxyProcess> start(Path dir, int count, JsonArray backends, long suspectAfterMs, int backups,
                                  Consumer<JsonObject> more, Partition network) throws Exception {
    List<String> members = new ArrayList<>();
    List<Integer> ports = new ArrayList<>();
    List<JsonObject> reached = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int port = ProxyProcess.freePort();
      ports.add(port);
      JsonObject via = new JsonObject();
      if (network != null) {
        int eventBus = ProxyProcess.freePort();
        String group = String.valueOf(i);
        via.put("publicPort", network.relay(group, port)).put("eventBusPort", eventBus)
            .put("publicEventBusPort", network.relay(group + "/bus", eventBus));
      }
      reached.add(via);
      members.add("127.0.0.1:" + via.getInteger("publicPort", port));
    }
    this.dir = dir;
    String name = "it-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
    for (int i = 0; i < count; i++) {
      JsonObject config = Proxies.config().json().put("backends", backends.copy());
      config.put("cluster", new JsonObject()
          .put("enabled", true).put("name", name).put("host", "127.0.0.1").put("port", ports.get(i))
          .put("members", new JsonArray(members)).put("backups", backups).put("suspectAfterMs", suspectAfterMs)
          .put("secret", SECRET).mergeIn(reached.get(i)));
      more.accept(config);
      configs.add(config);
      nodes.add(ProxyProcess.launch(dir, config));
    }
    for (ProxyProcess node : nodes) {
      node.awaitListening();
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> nodes.stream().allMatch(
        n -> n.output().contains("dstunnel cluster members: " + count) || n.output().contains("joined (" + count + " members)")));
    return nodes;
  }

  /** Starts node {@code i} again (it was killed or stopped) with its config; returns once it serves. */
  public ProxyProcess restart(int i) throws Exception {
    ProxyProcess again = relaunch(i);
    again.awaitListening();
    return again;
  }

  /** Starts node {@code i} again (it was killed or stopped) with its config, without waiting for it to serve. */
  public ProxyProcess relaunch(int i) throws IOException {
    nodes.get(i).close();
    ProxyProcess again = ProxyProcess.launch(dir, configs.get(i));
    nodes.set(i, again);
    return again;
  }

  /** Members that node {@code node} counts now (its {@code /admin/cluster}). */
  public static int members(Vertx vertx, ProxyProcess node) {
    return admin(vertx, node, "/admin/cluster").getJsonArray("members").size();
  }

  public static JsonObject admin(Vertx vertx, ProxyProcess node, String path) {
    return new RawHttp(vertx, node.adminPort()).get(path, "Authorization", ADMIN).json();
  }

  public static double metric(Vertx vertx, ProxyProcess node, String name) {
    String text = new RawHttp(vertx, node.adminPort()).get("/metrics", "Authorization", ADMIN).body().toString();
    return text.lines().filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  public static int copiesHeld(Vertx vertx, ProxyProcess node) {
    return admin(vertx, node, "/admin/cluster").getInteger("copiesHeld");
  }

  public static TunnelClient client(Vertx vertx, ProxyProcess node, int readSize) {
    return new TunnelClient(vertx, "127.0.0.1", node.port(), "admin", "admin", readSize);
  }

  /** Opens {@code c}'s session, prepares Increment and calls it once (answer 1): the handle. */
  public static int countingSession(TunnelClient c) {
    c.handshake().await();
    int inc = c.prepare("Increment").await();
    assertThat(c.execute(inc, 1).await()).isEqualTo(1);
    return inc;
  }

  /** What each node printed, for a failed test's report. */
  public String output() {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < nodes.size(); i++) {
      out.append("---- node ").append(i).append(" printed:\n").append(nodes.get(i).output()).append('\n');
    }
    return out.toString();
  }

  @Override
  public void afterEach(ExtensionContext context) {
    close();
  }

  @Override
  public void testFailed(ExtensionContext context, Throwable cause) {
    System.err.println(output());
  }

  @Override
  public void close() {
    nodes.forEach(ProxyProcess::close);
  }
}
