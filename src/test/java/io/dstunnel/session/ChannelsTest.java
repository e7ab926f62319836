// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.dstunnel.Dstunnel;
import io.dstunnel.demo.TunnelClient;
import io.dstunnel.support.Backends;
import io.dstunnel.support.Backends.Server;
import io.dstunnel.support.DirectDbx;
import io.dstunnel.support.MisbehavingBackend;
import io.dstunnel.support.MisbehavingBackend.Mode;
import io.dstunnel.support.Proxies;
import io.dstunnel.support.RawHttp;
import io.dstunnel.support.Relay;
import io.dstunnel.support.Sessions;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Heavyweight callbacks through the tunnel and calls that a failover must not run twice
 * (backend-protocol.md), over real sockets to demo servers.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ChannelsTest {

  /** A channel client: its own tunnel session, registered on channel "news". */
  private static TunnelClient channel(Vertx vertx, Dstunnel proxy, String clientId) {
    TunnelClient c = Proxies.client(vertx, proxy);
    c.handshake().await();
    int h = c.prepareMethod("DSAdmin.ConnectClientChannel").await();
    c.write(TunnelClient.executeRequest(h, "news", clientId, "cb-" + clientId, "news", "token")).await();
    return c;
  }

  /** Reads the next push to {@code c}, answers it as a Delphi client does, and gives its value. */
  private static Object pushed(TunnelClient c, String clientId) {
    JsonArray push = new JsonObject(c.readMessage().await()).getJsonArray("callback");
    assertThat(push).as("a push to " + clientId).isNotNull();
    assertThat(push.getString(0)).isEqualTo("cb-" + clientId);
    c.write(Buffer.buffer("{\"response\":[true]}")).await();
    return push.getValue(1);
  }

  private static Object call(TunnelClient c, int handle, Object... args) {
    return new JsonObject(c.call(TunnelClient.executeRequest(handle, args)).await()).getJsonArray("result").getValue(0);
  }

  @Test
  void pushesAndAnswersSplitAtEveryByteReachTheChannelWholeAndInOrder(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    MisbehavingBackend trickle = MisbehavingBackend.start(vertx, Mode.ONE_BYTE_AT_A_TIME, a.port(), 0);
    Dstunnel proxy = Proxies.config().backend("a", trickle.port(), 0).start(vertx);
    TunnelClient c = channel(vertx, proxy, "c1");
    TunnelClient s = Proxies.client(vertx, proxy);
    s.handshake().await();
    int broadcast = s.prepareMethod("DSAdmin.BroadcastToChannel").await();
    int close = s.prepareMethod("DSAdmin.CloseClientChannel").await();
    // Until the server has the registration, a broadcast finds no channel (and pushes nothing).
    await().atMost(Duration.ofSeconds(20)).until(() -> Boolean.TRUE.equals(call(s, broadcast, "news", 1)));
    assertThat(call(s, broadcast, "news", new JsonObject().put("n", 2))).isEqualTo(true);
    assertThat(call(s, broadcast, "news", "three")).isEqualTo(true);
    assertThat(pushed(c, "c1")).isEqualTo(1);
    assertThat(pushed(c, "c1")).isEqualTo(new JsonObject().put("n", 2));
    assertThat(pushed(c, "c1")).isEqualTo("three");
    assertThat(Sessions.snapshot(proxy, c.sessionId()).getString("channel")).isEqualTo("news");

    assertThat(call(s, close, "c1", "token")).isEqualTo(true);
    assertThat(new JsonObject(c.readMessage().await())).as("the registration's answer")
        .isEqualTo(new JsonObject().put("result", new JsonArray().add(true)));
    // An ordinary connection again: calls are answered in order.
    assertThat(c.execute(c.prepare("EchoString").await(), "after").await()).isEqualTo("after (Server A)");
    assertThat(Sessions.snapshot(proxy, c.sessionId()).getString("channel")).isNull();
  }

  @Test
  void broadcastThroughTheProxyReachesTheChannelsOnEveryServerOnce(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "B");
    Dstunnel proxy = Proxies.config().backend("a", a.port(), 0).backend("b", b.port(), 0).start(vertx);
    TunnelClient c1 = channel(vertx, proxy, "c1");
    TunnelClient c2 = channel(vertx, proxy, "c2");
    assertThat(java.util.Set.of(backend(proxy, c1), backend(proxy, c2))).containsExactlyInAnyOrder("a", "b");
    // Each server has its channel once a broadcast made on the server itself reaches it.
    for (Server server : java.util.List.of(a, b)) {
      DirectDbx direct = DirectDbx.connect(vertx, server.port());
      await().atMost(Duration.ofSeconds(10)).until(() -> Boolean.TRUE.equals(
          direct.run("DSAdmin.BroadcastToChannel", "news", "ping " + server.name())));
      direct.close();
    }
    assertThat(pushed(c1, "c1")).asString().startsWith("ping");
    assertThat(pushed(c2, "c2")).asString().startsWith("ping");

    TunnelClient s = Proxies.client(vertx, proxy);
    s.handshake().await();
    int broadcast = s.prepareMethod("DSAdmin.BroadcastToChannel").await();
    assertThat(call(s, broadcast, "news", new JsonObject().put("n", 1))).isEqualTo(true);
    assertThat(call(s, broadcast, "news", new JsonObject().put("n", 2))).isEqualTo(true);
    // Once each: the next push after n=1 is n=2, on both servers' channels.
    for (TunnelClient c : java.util.List.of(c1, c2)) {
      String id = c == c1 ? "c1" : "c2";
      assertThat(pushed(c, id)).isEqualTo(new JsonObject().put("n", 1));
      assertThat(pushed(c, id)).isEqualTo(new JsonObject().put("n", 2));
    }
  }

  @Test
  void channelFailsOverByReplayWithoutItsPushAnswersAndABroadcastIsNotRunAgain(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "B");
    Relay standby = Relay.start(vertx, b.port());
    Dstunnel proxy = Proxies.config().backend("a", a.port(), 0).backend("b", standby.port(), 1).start(vertx);
    TunnelClient c = channel(vertx, proxy, "c1");
    TunnelClient s = Proxies.client(vertx, proxy);
    s.handshake().await();
    int broadcast = s.prepareMethod("DSAdmin.BroadcastToChannel").await();
    await().atMost(Duration.ofSeconds(10)).until(() -> Boolean.TRUE.equals(call(s, broadcast, "news", "one")));
    assertThat(pushed(c, "c1")).isEqualTo("one");

    a.kill();
    // The channel moves at once (its pushes must go on), registered again on b by replay.
    await().atMost(Duration.ofSeconds(10)).until(() -> "b".equals(backend(proxy, c)));
    // The broadcast's session moves on its next call; until b has the registration it finds no channel.
    await().atMost(Duration.ofSeconds(10)).until(() -> Boolean.TRUE.equals(call(s, broadcast, "news", "two")));
    assertThat(standby.count("DSAdmin.ConnectClientChannel")).as("the channel's prepare, replayed once").isEqualTo(1);
    assertThat(standby.count("\"response\"")).as("push answers are not replayed").isZero();
    assertThat(standby.count("\"one\"")).as("the broadcast is not run again (session.replaySkip)").isZero();
    assertThat(pushed(c, "c1")).as("the next push is the new one, not 'one' again").isEqualTo("two");
    // The client's answer to that push reaches b through the relay after the client has the push.
    await("an answer to b's own push goes to b").atMost(Duration.ofSeconds(10))
        .until(() -> standby.count("\"response\"") == 1);
    String metrics = new RawHttp(vertx, proxy.adminPort()).get("/metrics", "Authorization",
        RawHttp.basic("admin", "admin")).body().toString();
    assertThat(metrics).contains("dstunnel_channel_failovers_total 1.0");
  }

  @Test
  void skippedCallInFlightAtAFailoverIsAnsweredWithAnErrorInsteadOfRunningAgain(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "B");
    Relay standby = Relay.start(vertx, b.port());
    Dstunnel proxy = Proxies.config().backend("a", a.port(), 0).backend("b", standby.port(), 1)
        .set("session", "replaySkip", new JsonArray().add("TServerMethods1.SlowEcho")).start(vertx);
    TunnelClient c = Proxies.client(vertx, proxy);
    c.handshake().await();
    int echo = c.prepare("EchoString").await();
    int slow = c.prepare("SlowEcho").await();
    assertThat(c.execute(echo, "before").await()).isEqualTo("before (Server A)");
    c.write(TunnelClient.executeRequest(slow, 60_000, "must run once")).await();
    c.write(TunnelClient.executeRequest(echo, "behind it")).await();
    await().atMost(Duration.ofSeconds(10)).until(() -> Sessions.snapshot(proxy, c.sessionId()).getBoolean("owed"));
    a.kill();

    JsonObject lost = new JsonObject(c.readMessage().await());
    assertThat(lost.getJsonObject("error").getString("message"))
        .isEqualTo("TServerMethods1.SlowEcho was not re-run after a failover (session.replaySkip)");
    assertThat(new JsonObject(c.readMessage().await()).getJsonArray("result").getString(0))
        .as("the call behind it, replayed on b, answered in its place").isEqualTo("behind it (Server B)");
    assertThat(c.execute(echo, "after").await()).isEqualTo("after (Server B)");
    assertThat(standby.count("must run once")).isZero();
  }

  @Test
  void anOpenChannelIsNoHungRequest(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "B");
    Dstunnel proxy = Proxies.config().backend("a", a.port(), 0).backend("b", b.port(), 1)
        .set("pool", "answerTimeoutMs", 200).start(vertx);
    TunnelClient c = channel(vertx, proxy, "c1");
    await().atMost(Duration.ofSeconds(10)).until(() -> "news".equals(Sessions.snapshot(proxy, c.sessionId())
        .getString("channel")));
    // Many answer timeouts long, the channel stays where it is and its backend stays up.
    await().during(Duration.ofMillis(1_500)).atMost(Duration.ofSeconds(10)).until(() -> {
      JsonObject snap = Sessions.snapshot(proxy, c.sessionId());
      return snap.getInteger("failovers") == 0 && "a".equals(snap.getString("backend"))
          && proxy.pool().byName("a").isUp();
    });
    DirectDbx direct = DirectDbx.connect(vertx, a.port());
    assertThat(direct.run("DSAdmin.BroadcastToChannel", "news", "still here")).isEqualTo(true);
    assertThat(pushed(c, "c1")).isEqualTo("still here");
  }

  /** A handle the session never saw prepared (as in a session adopted from a cluster copy). */
  @Test
  void executeOfAHandleNeverPreparedIsForwardedAsIs(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Dstunnel proxy = Proxies.config().backend("a", a.port(), 0).start(vertx);
    TunnelClient c = Proxies.client(vertx, proxy);
    c.handshake().await();
    JsonObject unknown = new JsonObject(c.call(TunnelClient.executeRequest(99, "x")).await());
    assertThat(unknown.getJsonObject("error").getString("message")).contains("unknown command handle");
    assertThat(c.execute(c.prepare("EchoString").await(), "still here").await()).isEqualTo("still here (Server A)");
  }

  private static String backend(Dstunnel proxy, TunnelClient c) {
    JsonObject snap = Sessions.snapshot(proxy, c.sessionId());
    return snap == null || !snap.getBoolean("connected") ? null : snap.getString("backend");
  }
}
