// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import static io.dstunnel.support.ClusterNodes.admin;
import static io.dstunnel.support.RawHttp.basic;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.dstunnel.config.ProxyConfig;
import io.dstunnel.demo.TunnelClient;
import io.dstunnel.session.Addresses;
import io.dstunnel.session.message.SessionFailure;
import io.dstunnel.session.message.TunnelCommand;
import io.dstunnel.session.message.TunnelReply;
import io.dstunnel.session.message.WireCodec;
import io.dstunnel.support.Backends;
import io.dstunnel.support.ClusterNodes;
import io.dstunnel.support.ProxyProcess;
import io.dstunnel.support.RawHttp;
import io.dstunnel.support.RawHttp.Answer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A request that reaches a session through another node than its owner is checked against the
 * session's owner as on one node (tunnel-protocol.md, errors): every command names who acts, and a
 * command that names nobody is refused (issue 22, item 4). Real proxy processes on loopback, and a
 * cluster member of the test's own.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class ForwardedUserIT {

  private static final String T = "/datasnap/tunnel";
  private static final String ADMIN = basic("admin", "admin");
  private static final String EVE = basic("eve", "secret");

  @RegisterExtension
  final ClusterNodes cluster = new ClusterNodes();

  /**
   * Admin's session on node 0. Eve, through node 1, gets the answer she gets on node 0 (403,
   * {@code Session belongs to another user}). A node of the cluster with no authentication (no
   * {@code auth} section, as the review's third node) cannot read or write admin's session through
   * its own tunnel port: 403 too; nor admin's REST session (which every node serves from the
   * cluster's record). An operator's close through node 1 still ends the tunnel session. Before,
   * the node without authentication forwarded the request with no user, the owner skipped its
   * check, and the read took admin's answer; it served the REST session as its own.
   */
  @Test
  void anotherUsersOrAnUnauthenticatedNodesRequestIsRefusedThroughAnyNodeAsOnTheOwner(Vertx vertx,
                                                                                     @TempDir Path dir)
      throws Exception {
    JsonArray backends = ClusterNodes.withRest(vertx);
    AtomicInteger started = new AtomicInteger();
    List<ProxyProcess> n = cluster.start(dir, 3, backends, 2000, 1, c -> {
      if (started.getAndIncrement() == 2) {
        c.remove("auth");  // node 2: no users, no authentication
      }
    });
    TunnelClient c = ClusterNodes.client(vertx, n.get(0), 32768);
    c.handshake().await();
    int echo = c.prepare("EchoString").await();
    String sid = c.sessionId();

    // Eve on the owner (the single-node answer), then through node 1: the same status and body.
    RawHttp owner = new RawHttp(vertx, n.get(0).port());
    RawHttp other = new RawHttp(vertx, n.get(1).port());
    for (RawHttp via : List.of(owner, other)) {
      assertRefused(via.get(T + "?dss=" + sid + "&c=10", "Authorization", EVE));
      assertRefused(via.put(T + "?dss=" + sid + "&c=2", Buffer.buffer("{}"), "Authorization", EVE));
      assertRefused(via.send(HttpMethod.POST, T + "?dss=" + sid, Buffer.buffer("dss=-" + sid),
          "Authorization", EVE));
    }

    // Admin's answer waits in the session; node 2, which knows no users, asks for it.
    c.write(TunnelClient.executeRequest(echo, "mine")).await();
    RawHttp open = new RawHttp(vertx, n.get(2).port());
    Answer stolen = open.get(T + "?dss=" + sid + "&c=32768");
    assertThat(stolen.body().toString()).as("what a node without authentication read").doesNotContain("mine");
    assertRefused(stolen);
    assertRefused(open.put(T + "?dss=" + sid + "&c=2", Buffer.buffer("{}")));
    assertRefused(open.send(HttpMethod.POST, T + "?dss=" + sid, Buffer.buffer("dss=-" + sid)));

    // The owner's session is untouched, also through node 1, with or without credentials.
    assertThat(new JsonObject(c.readMessage().await()).getJsonArray("result").getString(0))
        .isEqualTo("mine (Server A)");
    assertThat(c.via(n.get(1).port()).execute(echo, "still mine").await()).isEqualTo("still mine (Server A)");
    c.write(TunnelClient.executeRequest(echo, "no credentials")).await();
    assertThat(other.get(T + "?dss=" + sid + "&c=32768").body().toString()).contains("no credentials (Server A)");

    // A REST session (any node serves it, from the cluster's record): the same answers.
    String path = "/datasnap/rest/TServerMethods1/Increment/5";
    Answer first = owner.get(path, "Authorization", ADMIN);
    assertThat(first.json().getJsonArray("result").getInteger(0)).isEqualTo(5);
    String rest = first.headers().get("Pragma").replaceAll(".*dssession=([^,]+).*", "$1");
    assertRefused(other.get(path, "Pragma", "dssession=" + rest, "Authorization", EVE));
    assertRefused(open.get(path, "Pragma", "dssession=" + rest));
    assertThat(other.get(path, "Pragma", "dssession=" + rest).json().getJsonArray("result").getInteger(0))
        .as("admin's session, through node 1 without credentials").isEqualTo(10);

    // An operator's close, through a node that does not own the session, still ends it.
    assertThat(new RawHttp(vertx, n.get(1).adminPort()).send(HttpMethod.DELETE, "/admin/sessions/" + sid, null,
        "Authorization", ADMIN).status()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(10)).until(() -> owner.get(T + "?dss=" + sid + "&c=10", "Authorization", ADMIN)
        .status() == 404);
  }

  /**
   * A member of the cluster's own (joined with the cluster's name, as any process that reaches its
   * ports can) sends commands with no user for admin's session: to the session's own address (not
   * reachable from another member), and to its owner's inbox, where forwarded requests arrive. The
   * owner refuses them as it refuses another user's; the session goes on. Before, the read took
   * admin's answer and the close ended the session.
   */
  @Test
  void aCommandWithNoUserFromAnotherMemberIsRefused(Vertx vertx, @TempDir Path dir) throws Exception {
    AtomicReference<JsonObject> nodeConfig = new AtomicReference<>();
    List<ProxyProcess> n = cluster.start(dir, 2, ClusterNodes.only(Backends.start(vertx, "A")), 2000, 1,
        nodeConfig::set);
    TunnelClient c = ClusterNodes.client(vertx, n.get(0), 32768);
    c.handshake().await();
    int echo = c.prepare("EchoString").await();
    String sid = c.sessionId();
    String ownerId = admin(vertx, n.get(0), "/admin/cluster").getString("node");

    JsonObject rogueConfig = nodeConfig.get().copy();
    rogueConfig.getJsonObject("cluster").put("port", ProxyProcess.freePort());
    Vertx rogue = io.dstunnel.cluster.ClusterSetup.vertx(Vertx.builder(), new VertxOptions(),
        ProxyConfig.fromJson(rogueConfig).cluster()).await();
    try {
      WireCodec.register(rogue.eventBus());
      await().atMost(Duration.ofSeconds(30)).until(() -> ClusterNodes.members(vertx, n.get(0)) == 3);
      c.write(TunnelClient.executeRequest(echo, "mine")).await();

      DeliveryOptions within = new DeliveryOptions().setSendTimeout(10_000);
      Future<TunnelReply> direct = rogue.eventBus().<TunnelReply>request(Addresses.session(sid),
          TunnelCommand.read(sid, null, 32768, 7, 1000), within).map(m -> m.body());
      assertThat(direct.transform(ar -> Future.succeededFuture(ar.cause())).await())
          .as("the session's own address, from another member").isInstanceOf(ReplyException.class);

      TunnelReply read = rogue.eventBus().<TunnelReply>request(Addresses.nodeInbox(ownerId),
          TunnelCommand.read(sid, null, 32768, 7, 1000), within).map(m -> m.body()).await();
      assertThat(read.data() == null ? "" : read.data().toString()).as("what the member read").doesNotContain("mine");
      assertNotOwner(read);
      TunnelReply close = rogue.eventBus().<TunnelReply>request(Addresses.nodeInbox(ownerId),
          TunnelCommand.close(sid, null), within).map(m -> m.body()).await();
      assertNotOwner(close);
    } finally {
      rogue.close().await();
    }
    assertThat(new JsonObject(c.readMessage().await()).getJsonArray("result").getString(0))
        .isEqualTo("mine (Server A)");
    assertThat(c.via(n.get(1).port()).execute(echo, "still mine").await()).isEqualTo("still mine (Server A)");
  }

  private static void assertNotOwner(TunnelReply reply) {
    assertThat(reply.failure()).as("the owner's answer: %s", reply).isEqualTo(SessionFailure.NOT_OWNER);
    assertThat(reply.message()).isEqualTo("Session belongs to another user");
  }

  /** 403 with the single node's body (tunnel-protocol.md, errors). */
  private static void assertRefused(Answer a) {
    assertThat(a.status()).as("status (body %s)", a.body()).isEqualTo(403);
    assertThat(a.error()).isEqualTo("Session belongs to another user");
  }
}
