// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import static io.dstunnel.support.ClusterNodes.copiesHeld;
import static io.dstunnel.support.ClusterNodes.members;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.dstunnel.demo.TunnelClient;
import io.dstunnel.support.Backends;
import io.dstunnel.support.ClusterNodes;
import io.dstunnel.support.RawHttp;
import io.dstunnel.support.RawReads;
import io.dstunnel.support.Relay;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the client has been handed survives its owner's death and its owner's leave, to the byte:
 * the copy knows it as the owner does (cluster.md §3, §5). Real proxy processes on loopback.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class ClusterProgressIT {

  @RegisterExtension
  final ClusterNodes cluster = new ClusterNodes();

  /**
   * Blob(100000) read 16 KiB at a time through a node that does not own the session; the owner is
   * killed after the first slice: the next reads go on from the next byte, and the whole answer
   * equals the same call's answer before the death. Before, the adopter began the answer again.
   */
  @Test
  void anAnswerReadInSlicesGoesOnFromItsNextByteAfterItsOwnersDeath(Vertx vertx, @TempDir Path dir) throws Exception {
    var n = cluster.start(dir, 3, ClusterNodes.only(Backends.start(vertx, "A")), 2000, 1, c -> { });
    TunnelClient c = ClusterNodes.client(vertx, n.get(0), 16384);
    c.handshake().await();
    int blob = c.prepare("Blob").await();
    Buffer call = TunnelClient.executeRequest(blob, 100000);
    Buffer expected = c.call(call).await();
    assertThat(expected.length()).isGreaterThan(100000);
    c.write(call).await();
    Buffer first = RawReads.readOnce(vertx, n.get(1).port(), c.sessionId(), 16384);
    assertThat(first.length()).isEqualTo(16384);
    n.get(0).signal("KILL");
    Buffer got = first.copy();
    while (got.length() < expected.length()) {
      got.appendBuffer(RawReads.readOnce(vertx, n.get(1 + got.length() / 16384 % 2).port(), c.sessionId(), 16384));
    }
    assertThat(got).isEqualTo(expected);
    int echo = c.via(n.get(2).port()).prepare("EchoString").await();
    assertThat(c.execute(echo, "after").await()).isEqualTo("after (Server A)");
  }

  /**
   * A read held on the owner itself: its answer arrives, the copies are told (one copy holder,
   * paused, holds the owner up) and the owner dies before writing it to the client, whose
   * connection breaks. The read sent again through another node gets the answer. Before, the
   * copies took the answer for delivered as soon as they were told, and the read waited for ever.
   * (Found by review.)
   */
  @Test
  void aReadHeldOnTheOwnerGetsItsAnswerAgainWhenTheOwnerDiedBeforeWritingIt(Vertx vertx, @TempDir Path dir)
      throws Exception {
    Backends.Server a = Backends.start(vertx, "A");
    Relay relay = Relay.start(vertx, a.port());
    var n = cluster.start(dir, 3, new JsonArray().add(new JsonObject().put("name", "a").put("host", "127.0.0.1")
        .put("port", relay.port())), 30_000, 2, c -> { });
    TunnelClient c = ClusterNodes.client(vertx, n.get(0), 32768);
    c.handshake().await();
    int slow = c.prepare("SlowEcho").await();
    c.write(TunnelClient.executeRequest(slow, 2000, "held")).await();
    var held = new RawHttp(vertx, n.get(0).port()).sendAsync(HttpMethod.GET, "/datasnap/tunnel?dss=" + c.sessionId()
        + "&c=32768", null, "Authorization", RawHttp.basic("admin", "admin"));
    n.get(1).signal("STOP");
    await().atMost(Duration.ofSeconds(20)).until(() -> relay.answered("held (Server A)"));
    n.get(0).signal("KILL");
    n.get(1).signal("CONT");
    await().atMost(Duration.ofSeconds(20)).until(held::isComplete);
    assertThat(held.failed()).as("the held read's connection broke with its node").isTrue();
    Buffer again = RawReads.readOnce(vertx, n.get(2).port(), c.sessionId(), 32768);
    assertThat(again.toString()).contains("held (Server A)");
    int echo = c.via(n.get(2).port()).prepare("EchoString").await();
    assertThat(c.execute(echo, "after").await()).isEqualTo("after (Server A)");
  }

  /**
   * SIGTERM on the owner while a call runs longer than the drain time: the leave does not end the
   * session; the call's answer reaches the client through another node, and the session goes on.
   * Before, the session was ended at the drain deadline, its copies and record with it (404).
   */
  @Test
  void aSessionBusyPastTheDrainTimeOutlivesItsNodesLeave(Vertx vertx, @TempDir Path dir) throws Exception {
    var n = cluster.start(dir, 3, ClusterNodes.only(Backends.start(vertx, "A")), 2000, 1,
        c -> c.put("session", c.getJsonObject("session", new JsonObject()).put("drainTimeoutMs", 3000)));
    TunnelClient c = ClusterNodes.client(vertx, n.get(0), 32768);
    c.handshake().await();
    int slow = c.prepare("SlowEcho").await();
    c.write(TunnelClient.executeRequest(slow, 8000, "busy")).await();
    n.get(0).signal("TERM");
    JsonObject answer = new JsonObject(c.via(n.get(1).port()).readMessage().await());
    assertThat(answer.getJsonArray("result").getString(0)).isEqualTo("busy (Server A)");
    int echo = c.prepare("EchoString").await();
    assertThat(c.execute(echo, "after").await()).isEqualTo("after (Server A)");
    assertThat(n.get(0).process().waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(n.get(0).process().exitValue()).isZero();
  }

  /**
   * Two nodes: the copy holder dies, and comes back; the session gets a copy on it again without a
   * write asking for one, so the owner's later death loses nothing. Before, a session whose holder
   * was lost stayed without a copy for ever (404 after the owner's death).
   */
  @Test
  void aSessionThatLostItsCopyHolderIsCopiedAgainWhenAMemberComesBack(Vertx vertx, @TempDir Path dir)
      throws Exception {
    var n = cluster.start(dir, 2, ClusterNodes.only(Backends.start(vertx, "A")), 2000, 1, c -> { });
    TunnelClient c = ClusterNodes.client(vertx, n.get(0), 32768);
    c.handshake().await();
    int inc = c.prepare("Increment").await();
    assertThat(c.execute(inc, 1).await()).isEqualTo(1);
    await().atMost(Duration.ofSeconds(10)).until(() -> copiesHeld(vertx, n.get(1)) == 1);
    n.get(1).signal("KILL");
    await().atMost(Duration.ofSeconds(30)).until(() -> members(vertx, n.get(0)) == 1);
    assertThat(c.execute(inc, 1).await()).isEqualTo(2);
    var back = cluster.restart(1);
    await().atMost(Duration.ofSeconds(30)).until(() -> copiesHeld(vertx, back) == 1);
    n.get(0).signal("KILL");
    assertThat(c.via(back.port()).execute(inc, 1).await()).isEqualTo(3);
  }

  /**
   * The owner dies and its client never comes back: the copy and the session's record go once the
   * session's idle timeout has passed, and a client returning later finds the session ended (404),
   * not revived. Before, copies and records lived for ever.
   */
  @Test
  void aDeadOwnersSessionIsForgottenWithItsIdleTimeout(Vertx vertx, @TempDir Path dir) throws Exception {
    var n = cluster.start(dir, 3, ClusterNodes.only(Backends.start(vertx, "A")), 2000, 1,
        c -> c.put("session", c.getJsonObject("session", new JsonObject()).put("idleTimeoutMs", 3000)));
    TunnelClient c = ClusterNodes.client(vertx, n.get(0), 32768);
    c.handshake().await();
    int inc = c.prepare("Increment").await();
    assertThat(c.execute(inc, 1).await()).isEqualTo(1);
    await().atMost(Duration.ofSeconds(10)).until(() -> copiesHeld(vertx, n.get(1)) + copiesHeld(vertx, n.get(2)) == 1);
    n.get(0).signal("KILL");
    await().atMost(Duration.ofSeconds(60)).until(() -> copiesHeld(vertx, n.get(1)) + copiesHeld(vertx, n.get(2)) == 0);
    assertThatThrownBy(() -> c.via(n.get(1).port()).execute(inc, 1).await())
        .isInstanceOfSatisfying(TunnelClient.TunnelError.class, e -> assertThat(e.status()).isEqualTo(404));
  }

  /**
   * The owner dies while the only backend is down: the adoption fails, and the session is not left
   * answering 404 for ever: once the backend is back, the next request adopts it and it goes on.
   */
  @Test
  void anAdoptionThatFoundNoBackendIsTriedAgainOnTheNextRequest(Vertx vertx, @TempDir Path dir) throws Exception {
    Backends.Server a = Backends.start(vertx, "A");
    var n = cluster.start(dir, 3, ClusterNodes.only(a), 2000, 1, c -> { });
    TunnelClient c = ClusterNodes.client(vertx, n.get(0), 32768);
    c.handshake().await();
    int inc = c.prepare("Increment").await();
    assertThat(c.execute(inc, 1).await()).isEqualTo(1);
    await().atMost(Duration.ofSeconds(10)).until(() -> copiesHeld(vertx, n.get(1)) + copiesHeld(vertx, n.get(2)) == 1);
    a.kill();
    n.get(0).signal("KILL");
    assertThatThrownBy(() -> c.via(n.get(1).port()).execute(inc, 1).await()).isInstanceOf(TunnelClient.TunnelError.class);
    a.start();
    assertThat(c.via(n.get(2).port()).execute(inc, 1).await()).isEqualTo(2);
  }

  /**
   * An operator drains a backend through one node: every node stops opening sessions on it, and a
   * node that restarts finds it drained too. Before, the action applied on the node it reached only.
   */
  @Test
  void aBackendDrainedThroughOneNodeIsDrainedOnEveryNodeAndAfterARestart(Vertx vertx, @TempDir Path dir)
      throws Exception {
    var n = cluster.start(dir, 3, ClusterNodes.only(Backends.start(vertx, "A")), 2000, 1, c -> { });
    RawHttp admin = new RawHttp(vertx, n.get(0).adminPort());
    assertThat(admin.send(HttpMethod.POST, "/admin/backends/a/drain", null, "Authorization",
        RawHttp.basic("admin", "admin")).status()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(10)).until(() -> mode(vertx, n.get(1)).equals("drain")
        && mode(vertx, n.get(2)).equals("drain"));
    var back = cluster.restart(2);
    await().atMost(Duration.ofSeconds(10)).until(() -> mode(vertx, back).equals("drain"));
  }

  /**
   * The owner and its copy holder are stopped together (a scale-down): the session goes to the
   * node that stays and carries on there. Before, the owner handed it to the other leaving node,
   * which closed it as it left.
   */
  @Test
  void nodesLeavingTogetherHandTheirSessionsToTheNodeThatStays(Vertx vertx, @TempDir Path dir) throws Exception {
    var n = cluster.start(dir, 3, ClusterNodes.only(Backends.start(vertx, "A")), 2000, 1, c -> { });
    TunnelClient c = ClusterNodes.client(vertx, n.get(0), 32768);
    c.handshake().await();
    int inc = c.prepare("Increment").await();
    assertThat(c.execute(inc, 1).await()).isEqualTo(1);
    await().atMost(Duration.ofSeconds(10)).until(() -> copiesHeld(vertx, n.get(1)) + copiesHeld(vertx, n.get(2)) == 1);
    int holder = copiesHeld(vertx, n.get(1)) == 1 ? 1 : 2;
    int stays = 3 - holder;
    n.get(0).signal("TERM");
    n.get(holder).signal("TERM");
    assertThat(n.get(0).process().waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(n.get(holder).process().waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(c.via(n.get(stays).port()).execute(inc, 1).await()).isEqualTo(2);
  }

  /**
   * A call listed in {@code session.replaySkip} ran on the dead owner's backend: its adopter's
   * replay leaves it out, as a backend failover on one node does. Before, copies held the client's
   * bytes as written and the adopter ran it again.
   */
  @Test
  void aReplaySkipCallDoesNotRunAgainOnTheAdopter(Vertx vertx, @TempDir Path dir) throws Exception {
    Backends.Server a = Backends.start(vertx, "A");
    Relay relay = Relay.start(vertx, a.port());
    var n = cluster.start(dir, 3, new JsonArray().add(new JsonObject().put("name", "a").put("host", "127.0.0.1")
        .put("port", relay.port())), 2000, 1, c -> c.put("session", c.getJsonObject("session", new JsonObject())
        .put("replaySkip", new JsonArray().add("TServerMethods1.EchoString"))));
    TunnelClient c = ClusterNodes.client(vertx, n.get(0), 32768);
    c.handshake().await();
    int echo = c.prepare("EchoString").await();
    int inc = c.prepare("Increment").await();
    assertThat(c.execute(echo, "run once").await()).isEqualTo("run once (Server A)");
    assertThat(c.execute(inc, 1).await()).isEqualTo(1);
    await().atMost(Duration.ofSeconds(10)).until(() -> copiesHeld(vertx, n.get(1)) + copiesHeld(vertx, n.get(2)) == 1);
    n.get(0).signal("KILL");
    Object after;
    try {
      after = c.via(n.get(1).port()).execute(inc, 1).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("no answer; the backend received: " + relay.received());
    }
    assertThat(after).isEqualTo(2);
    assertThat(relay.count("run once")).as("runs of the replaySkip call").isEqualTo(1);
    assertThat(relay.count("Increment")).as("the prepare of Increment, replayed once").isEqualTo(2);
  }

  /**
   * A callback channel whose owner dies goes on through another node: its adopter registers it
   * again without the client's answers to earlier pushes (they are not calls), and a broadcast made
   * on another backend through another node reaches it, once. Before, the adopter replayed the push
   * answers, and a broadcast reached other backends only for channels registered through its node.
   */
  @Test
  void aChannelOutlivesItsOwnersDeathAndBroadcastsReachItFromAnyNodeAndBackend(Vertx vertx, @TempDir Path dir)
      throws Exception {
    Backends.Server a = Backends.start(vertx, "A");
    Backends.Server b = Backends.start(vertx, "B");
    Relay relay = Relay.start(vertx, a.port());
    var n = cluster.start(dir, 3, new JsonArray()
        .add(new JsonObject().put("name", "a").put("host", "127.0.0.1").put("port", relay.port()).put("priority", 0))
        .add(new JsonObject().put("name", "b").put("host", "127.0.0.1").put("port", b.port()).put("priority", 1)),
        2000, 1, c -> { });
    TunnelClient channel = ClusterNodes.client(vertx, n.get(0), 32768);
    channel.handshake().await();
    int connect = channel.prepareMethod("DSAdmin.ConnectClientChannel").await();
    channel.write(TunnelClient.executeRequest(connect, "news", "c1", "cb-c1", "news", "token")).await();
    // The broadcaster's session opens on b (a drained for new sessions), through node 1.
    new RawHttp(vertx, n.get(1).adminPort()).send(HttpMethod.POST, "/admin/backends/a/drain", null,
        "Authorization", RawHttp.basic("admin", "admin"));
    TunnelClient sender = ClusterNodes.client(vertx, n.get(1), 32768);
    sender.handshake().await();
    int broadcast = sender.prepareMethod("DSAdmin.BroadcastToChannel").await();
    new RawHttp(vertx, n.get(1).adminPort()).send(HttpMethod.POST, "/admin/backends/a/enable", null,
        "Authorization", RawHttp.basic("admin", "admin"));
    await().atMost(Duration.ofSeconds(10)).until(() -> mode(vertx, n.get(2)).equals("active"));
    await().atMost(Duration.ofSeconds(10)).until(() -> Boolean.TRUE.equals(sender.execute(broadcast, "news", "one").await()));
    assertThat(pushed(channel.via(n.get(2).port()))).isEqualTo("one");
    await().atMost(Duration.ofSeconds(10)).until(() -> copiesHeld(vertx, n.get(1)) + copiesHeld(vertx, n.get(2)) >= 1);
    n.get(0).signal("KILL");
    // The channel's next read, through node 2, finds its owner dead: it is adopted and registered again.
    var next = channel.readMessage();
    await().atMost(Duration.ofSeconds(20)).until(() -> relay.count("ConnectClientChannel") >= 2);
    await().atMost(Duration.ofSeconds(10)).until(() -> Boolean.TRUE.equals(sender.execute(broadcast, "news", "two").await()));
    JsonArray push = new JsonObject(next.await()).getJsonArray("callback");
    assertThat(push.getValue(1)).as("the next push is the new one, once").isEqualTo("two");
    assertThat(relay.count("\"response\"")).as("push answers are not replayed").isEqualTo(1);
  }

  /**
   * A {@code BroadcastToChannel} answered by the session's own backend waits for the other backend
   * holding the channel, which never answers (its relay holds the answer back), when its owner is
   * SIGTERMed: the leave waits for the broadcaster to give up on that backend, the client reads the
   * answer once, and the session goes on through another node. Before, a session whose only debt
   * was such a queued answer counted as idle and was handed over at once; the new owner, which must
   * not run a broadcast again (session.replaySkip), answered it with an error.
   */
  @Test
  @Timeout(value = 240, unit = TimeUnit.SECONDS)  // two backends and a channel before the leave: a longer set-up
  void aBroadcastsAnswerQueuedForAnotherBackendIsAnsweredOnceAfterItsOwnersLeave(Vertx vertx, @TempDir Path dir)
      throws Exception {
    Backends.Server a = Backends.start(vertx, "A");
    Relay b = Relay.start(vertx, Backends.start(vertx, "B").port()).withholdAfter("held value");
    var n = cluster.start(dir, 3, new JsonArray()
        .add(new JsonObject().put("name", "a").put("host", "127.0.0.1").put("port", a.port()).put("priority", 0))
        .add(new JsonObject().put("name", "b").put("host", "127.0.0.1").put("port", b.port()).put("priority", 1)),
        2000, 1, c -> {
          c.put("session", c.getJsonObject("session", new JsonObject()).put("drainTimeoutMs", 30_000));
          // How long the broadcaster waits for another backend's answer.
          c.put("pool", c.getJsonObject("pool", new JsonObject()).put("answerTimeoutMs", 4000));
        });
    // The channel client's session opens on b (a drained for new sessions), through node 1.
    RawHttp admin = new RawHttp(vertx, n.get(1).adminPort());
    admin.send(HttpMethod.POST, "/admin/backends/a/drain", null, "Authorization", RawHttp.basic("admin", "admin"));
    await().atMost(Duration.ofSeconds(10)).until(() -> mode(vertx, n.get(1)).equals("drain"));
    TunnelClient channel = ClusterNodes.client(vertx, n.get(1), 32768);
    channel.handshake().await();
    int connect = channel.prepareMethod("DSAdmin.ConnectClientChannel").await();
    channel.write(TunnelClient.executeRequest(connect, "news", "c1", "cb-c1", "news", "token")).await();
    admin.send(HttpMethod.POST, "/admin/backends/a/enable", null, "Authorization", RawHttp.basic("admin", "admin"));
    await().atMost(Duration.ofSeconds(10)).until(() -> mode(vertx, n.get(0)).equals("active"));
    // The broadcaster's session opens on a through node 0, which owns it; a has no channel "news".
    TunnelClient sender = ClusterNodes.client(vertx, n.get(0), 32768);
    sender.handshake().await();
    int broadcast = sender.prepareMethod("DSAdmin.BroadcastToChannel").await();
    int echo = sender.prepare("EchoString").await();
    await().atMost(Duration.ofSeconds(20)).until(() -> Boolean.TRUE.equals(sender.execute(broadcast, "news", "one").await()));
    sender.write(TunnelClient.executeRequest(broadcast, "news", "held value")).await();
    // a has answered (the broadcast goes on to b only then): its answer waits for b's, which never comes.
    await().atMost(Duration.ofSeconds(10)).until(() -> b.count("held value") == 1);
    n.get(0).signal("TERM");
    String sid = sender.sessionId();
    await().atMost(Duration.ofSeconds(30)).until(() -> n.get(0).output().contains("handed session " + sid + " over")
        || n.get(0).output().contains("broadcast to channel news on b failed")
        || n.get(0).output().contains("backend b left a broadcast unanswered"));
    JsonObject answer = new JsonObject(sender.via(n.get(1).port()).readMessage().await());
    assertThat(answer.encode()).as("the broadcast's answer").isEqualTo("{\"result\":[false]}");
    assertThat(sender.execute(echo, "after").await()).as("the next answer is the next call's").isEqualTo("after (Server A)");
    assertThat(n.get(0).process().waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(n.get(0).process().exitValue()).isZero();
    assertThat(sender.via(n.get(2).port()).execute(echo, "still").await()).isEqualTo("still (Server A)");
  }

  /** Reads the next push to a channel client and answers it as a Delphi client does; its value. */
  private static Object pushed(TunnelClient c) {
    JsonArray push = new JsonObject(c.readMessage().await()).getJsonArray("callback");
    assertThat(push).as("a push").isNotNull();
    c.write(Buffer.buffer("{\"response\":[true]}")).await();
    return push.getValue(1);
  }

  private static String mode(Vertx vertx, io.dstunnel.support.ProxyProcess node) {
    return ClusterNodes.admin(vertx, node, "/admin/backends").getJsonArray("backends").getJsonObject(0).getString("mode");
  }
}
