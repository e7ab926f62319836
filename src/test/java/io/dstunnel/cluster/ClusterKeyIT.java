// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import static io.dstunnel.support.ClusterNodes.admin;
import static io.dstunnel.support.ClusterNodes.members;
import static io.dstunnel.support.ClusterNodes.metric;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.dstunnel.config.ClusterConfig;
import io.dstunnel.config.ProxyConfig;
import io.dstunnel.demo.TunnelClient;
import io.dstunnel.support.Backends;
import io.dstunnel.support.ClusterNodes;
import io.dstunnel.support.Proxies;
import io.dstunnel.support.ProxyProcess;
import io.dstunnel.support.RawHttp;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.infinispan.Cache;
import org.infinispan.commons.api.CacheContainerAdmin;
import org.infinispan.manager.DefaultCacheManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster's key (issue 22, cluster.md's {@code cluster.secret}): only nodes holding it are
 * members. Real processes on loopback: keyed nodes, and beside them a rogue dstunnel node with the
 * same cluster name and member list but no key, or another key, and a bare cluster-manager member
 * (Infinispan over JGroups TCP, no key) that knows the cluster's name and members.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ClusterKeyIT {

  private static final String OTHER_KEY = "not-the-cluster-key-9876543210-zyxwvutsrqponmlkjih";

  @RegisterExtension
  final ClusterNodes cluster = new ClusterNodes();

  /** A dstunnel node with the keyed nodes' cluster name and members, its own member port, and {@code key}'s key. */
  private static ProxyProcess rogue(Path dir, JsonObject keyed, Consumer<JsonObject> key) throws Exception {
    JsonObject config = keyed.copy();
    JsonObject section = config.getJsonObject("cluster");
    section.remove("secret");
    section.put("port", ProxyProcess.freePort());
    key.accept(section);
    return ProxyProcess.start(dir, config);
  }

  @Test
  void aNodeWithoutTheKeyOrWithAnotherCannotJoinReadWriteOrAdopt(Vertx vertx, @TempDir Path dir) throws Exception {
    List<ProxyProcess> n = cluster.start(dir, 2, ClusterNodes.only(Backends.start(vertx, "A")), 2000, 1, c -> { });
    TunnelClient alice = ClusterNodes.client(vertx, n.get(0), 32768);
    int inc = ClusterNodes.countingSession(alice);

    ProxyProcess noKey = rogue(dir, cluster.config(0), c -> c.put("trustedNetwork", true));
    ProxyProcess otherKey = rogue(dir, cluster.config(0), c -> c.put("secret", OTHER_KEY));
    List<ProxyProcess> both = List.of(noKey, otherKey);
    try {
      rogueIsNoMember(vertx, n, alice, inc, both);
    } finally {
      both.forEach(ProxyProcess::close);
    }
  }

  private static void rogueIsNoMember(Vertx vertx, List<ProxyProcess> n, TunnelClient alice, int inc,
                                      List<ProxyProcess> both) throws Exception {
    ProxyProcess noKey = both.get(0);
    ProxyProcess otherKey = both.get(1);
    // Long enough for discovery and several merge rounds (MERGE3 every 2-6 s) to have tried.
    await().during(Duration.ofSeconds(12)).atMost(Duration.ofSeconds(30)).until(() ->
        members(vertx, n.get(0)) == 2 && members(vertx, n.get(1)) == 2
        && members(vertx, noKey) == 1 && members(vertx, otherKey) == 1);
    assertThat(metric(vertx, n.get(0), "dstunnel_cluster_members")).isEqualTo(2);

    for (ProxyProcess rogue : both) {
      assertThat(admin(vertx, rogue, "/admin/sessions").getJsonArray("sessions")).as("listed by a rogue").isEmpty();
      assertThatThrownBy(() -> alice.via(rogue.port()).execute(inc, 1).await())
          .as("alice's session written and read through a rogue's tunnel port")
          .isInstanceOfSatisfying(TunnelClient.TunnelError.class, e -> assertThat(e.status()).isEqualTo(404));
    }
    assertThat(alice.via(n.get(1).port()).execute(inc, 1).await()).as("nothing reached the session").isEqualTo(2);

    n.get(0).signal("KILL");
    assertThat(alice.via(n.get(1).port()).execute(inc, 1).await()).as("adopted by the keyed copy holder")
        .isEqualTo(3);
    for (ProxyProcess rogue : both) {
      assertThat(metric(vertx, rogue, "dstunnel_cluster_sessions_adopted_total")).isZero();
      assertThat(admin(vertx, rogue, "/admin/sessions").getJsonArray("sessions")).isEmpty();
      assertThatThrownBy(() -> alice.via(rogue.port()).execute(inc, 1).await())
          .isInstanceOf(TunnelClient.TunnelError.class);
    }
    assertThat(alice.via(n.get(1).port()).execute(inc, 1).await()).isEqualTo(4);
  }

  /**
   * The cluster manager itself, without dstunnel: an Infinispan member on JGroups TCP (the same
   * stack as a node's, without the key) with the cluster's name and members stays alone and sees
   * none of the cluster's maps (the session directory, Vert.x's subscriptions and node addresses).
   */
  @Test
  void aBareClusterManagerMemberWithoutTheKeyLearnsNothing(Vertx vertx, @TempDir Path dir) throws Exception {
    List<ProxyProcess> n = cluster.start(dir, 2, ClusterNodes.only(Backends.start(vertx, "A")), 2000, 1, c -> { });
    TunnelClient alice = ClusterNodes.client(vertx, n.get(0), 32768);
    alice.handshake().await();
    JsonObject section = cluster.config(0).getJsonObject("cluster").copy();
    section.remove("secret");
    section.put("trustedNetwork", true).put("port", ProxyProcess.freePort());
    ClusterConfig bare = ProxyConfig.parse(new JsonObject().put("backends", new JsonArray()
        .add(new JsonObject().put("port", 1))).put("cluster", section).encode()).cluster();
    DefaultCacheManager intruder = ClusterSetup.cacheManager(bare, null);
    try {
      await().during(Duration.ofSeconds(12)).atMost(Duration.ofSeconds(30)).until(() ->
          intruder.getMembers().size() == 1 && members(vertx, n.get(0)) == 2 && members(vertx, n.get(1)) == 2);
      for (String map : List.of(Directory.MAP, "__vertx.subs", "__vertx.nodeInfo")) {
        Cache<Object, Object> cache = intruder.getCacheConfiguration(map) != null ? intruder.getCache(map)
            : intruder.administration().withFlags(CacheContainerAdmin.AdminFlag.VOLATILE)
                .getOrCreateCache(map, "__vertx.distributed.cache.configuration");
        assertThat(cache.keySet()).as("what the intruder reads of " + map).isEmpty();
      }
    } finally {
      intruder.stop();
    }
    assertThat(alice.via(n.get(1).port()).prepare("Increment").await()).isNotNull();
  }

  /**
   * Nothing secret at rest in the cluster manager: a member that holds the key (so it reads every
   * map, as a heap dump or a debugging session of any node would) finds no Authorization header
   * and no password of the REST session admin opened, while every node still serves that session
   * from its record. Before, the record held {@code "authorization":"Basic YWRtaW46YWRtaW4="} in clear.
   */
  @Test
  void theClustersMapsHoldNoCredentialInClear(Vertx vertx, @TempDir Path dir) throws Exception {
    JsonArray backends = ClusterNodes.withRest(vertx);
    List<ProxyProcess> n = cluster.start(dir, 2, backends, 2000, 1, c -> { });
    String admin = RawHttp.basic("admin", "admin");
    String path = "/datasnap/rest/TServerMethods1/Increment/5";
    RawHttp.Answer first = new RawHttp(vertx, n.get(0).port()).get(path, "Authorization", admin);
    assertThat(first.json().getJsonArray("result").getInteger(0)).isEqualTo(5);
    String rest = first.headers().get("Pragma").replaceAll(".*dssession=([^,]+).*", "$1");

    JsonObject section = cluster.config(0).getJsonObject("cluster").copy().put("port", ProxyProcess.freePort());
    ClusterConfig keyed = ProxyConfig.parse(new JsonObject().put("backends", new JsonArray()
        .add(new JsonObject().put("port", 1))).put("cluster", section).encode()).cluster();
    DefaultCacheManager member = ClusterSetup.cacheManager(keyed, new ClusterKeys(ClusterNodes.SECRET));
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> member.getMembers().size() == 3);
      Cache<Object, Object> records = member.getCache("dstunnel.rest.sessions");
      await().atMost(Duration.ofSeconds(30)).until(() -> records.keySet().stream().anyMatch(k -> text(k).contains(rest)));
      StringBuilder all = new StringBuilder();
      for (String name : member.getCacheNames()) {
        member.getCache(name).entrySet().forEach(e -> all.append(text(e.getKey())).append('=')
            .append(text(e.getValue())).append('\n'));
      }
      assertThat(all.toString()).as("every map as a member with the key reads it")
          .contains(rest)
          .doesNotContain(admin.substring("Basic ".length()))
          .doesNotContain("Basic ")
          .doesNotContainIgnoringCase("authorization");
    } finally {
      member.stop();
    }
    assertThat(new RawHttp(vertx, n.get(1).port()).get(path, "Pragma", "dssession=" + rest).json()
        .getJsonArray("result").getInteger(0)).as("admin's session, through the other node, from its sealed record")
        .isEqualTo(10);
  }

  /**
   * The event bus, where forwards, copies, claims and adoptions arrive: a node's port refuses a TLS
   * peer with another key, or with no certificate, in the handshake, and bytes sent in clear get
   * nothing back (a peer with the key is every other test's cluster). Both cluster ports speak TLS
   * 1.3 only: before, they took TLS 1.2 and its CBC suites too.
   */
  @Test
  void theEventBusPortTakesNothingFromAPeerWithoutTheKey(Vertx vertx, @TempDir Path dir) throws Exception {
    int eventBus = ProxyProcess.freePort();
    cluster.start(dir, 1, ClusterNodes.only(Backends.start(vertx, "A")), 2000, 1,
        c -> c.getJsonObject("cluster").put("eventBusPort", eventBus));
    assertThat(refuses(new ClusterKeys(OTHER_KEY).sslContext(), eventBus)).as("another key").isTrue();
    int member = cluster.config(0).getJsonObject("cluster").getInteger("port");
    for (int port : new int[] {eventBus, member}) {
      assertThat(refuses(new ClusterKeys(ClusterNodes.SECRET).sslContext(), port, "TLSv1.2"))
          .as("the key, over TLS 1.2 (port " + port + ")").isTrue();
    }
    javax.net.ssl.SSLContext noCertificate = javax.net.ssl.SSLContext.getInstance("TLSv1.3");
    noCertificate.init(null, new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509TrustManager() {
      @Override
      public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String auth) {
      }

      @Override
      public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String auth) {
      }

      @Override
      public java.security.cert.X509Certificate[] getAcceptedIssuers() {
        return new java.security.cert.X509Certificate[0];
      }
    }}, null);
    assertThat(refuses(noCertificate, eventBus)).as("no certificate, trusting any server").isTrue();
    try (java.net.Socket clear = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), eventBus)) {
      clear.setSoTimeout(30_000);
      // An event-bus frame's start (length, then protocol version and codec) in clear.
      clear.getOutputStream().write(new byte[] {0, 0, 0, 40, 1, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
      clear.getOutputStream().flush();
      int got;
      try {
        byte[] answer = clear.getInputStream().readNBytes(64);
        got = answer.length == 0 || answer[0] == 0x15 ? 0 : answer.length;  // nothing, or a TLS alert
      } catch (java.io.IOException reset) {
        got = 0;
      }
      assertThat(got).as("what the node answers to bytes in clear, besides a TLS alert").isZero();
    }
  }

  /**
   * Whether the node's port refuses a TLS client with {@code context}: the handshake fails, or
   * (TLS 1.3: the server's verdict on the client's certificate comes after the client's handshake)
   * an alert and the close follow it. A peer the node accepted hears nothing: the read would wait.
   */
  private static boolean refuses(javax.net.ssl.SSLContext context, int port, String... protocols) {
    try (javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) context.getSocketFactory()
        .createSocket(java.net.InetAddress.getLoopbackAddress(), port)) {
      if (protocols.length > 0) {
        s.setEnabledProtocols(protocols);
      }
      s.setSoTimeout(60_000);
      s.startHandshake();
      return s.getInputStream().read() == -1;
    } catch (java.net.SocketTimeoutException accepted) {
      return false;
    } catch (java.io.IOException refused) {
      return true;
    }
  }

  /** What a cache holds, as text: vertx-infinispan keeps keys and values as serialized bytes. */
  private static String text(Object o) {
    return o instanceof byte[] b ? new String(b, StandardCharsets.ISO_8859_1) : String.valueOf(o);
  }

  @Test
  void aClusterNodeWithoutAKeyRefusesToStartNamingIt(@TempDir Path dir) throws Exception {
    int member = ProxyProcess.freePort();
    JsonObject config = Proxies.config().backend("a", ProxyProcess.freePort(), 0).json().put("cluster", new JsonObject().put("enabled", true)
        .put("name", "key-it-" + ProcessHandle.current().pid()).put("host", "127.0.0.1").put("port", member)
        .put("members", new JsonArray().add("127.0.0.1:" + member)));
    ProxyProcess node = ProxyProcess.launch(dir, config);
    try {
      // What a refused start prints is small: it waits in the pipe until the process has exited.
      assertThat(node.process().waitFor(90, TimeUnit.SECONDS)).as("the node exited").isTrue();
      String output = new String(node.process().getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(node.process().exitValue()).isEqualTo(2);
      assertThat(output).contains("cluster.secret").doesNotContain("listening on");
    } finally {
      node.close();
    }
  }

  @Test
  void onATrustedNetworkANodeWithoutAKeyStartsAndWarns(@TempDir Path dir) throws Exception {
    int member = ProxyProcess.freePort();
    JsonObject config = Proxies.config().backend("a", ProxyProcess.freePort(), 0).json().put("cluster", new JsonObject().put("enabled", true)
        .put("name", "key-it-" + ProcessHandle.current().pid() + "-" + System.nanoTime()).put("host", "127.0.0.1")
        .put("port", member).put("members", new JsonArray().add("127.0.0.1:" + member)).put("trustedNetwork", true));
    try (ProxyProcess node = ProxyProcess.start(dir, config)) {
      assertThat(node.output().lines().filter(l -> l.contains(" WARN ") && l.contains("cluster.trustedNetwork")))
          .as("the warning, before it serves").hasSize(1);
      assertThat(node.output()).contains("dstunnel cluster joined (1 members)");
    }
  }
}
