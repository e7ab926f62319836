// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.dstunnel.Dstunnel;
import io.dstunnel.demo.TunnelClient;
import io.dstunnel.demo.TunnelClient.TunnelError;
import io.dstunnel.support.Backends;
import io.dstunnel.support.Backends.Server;
import io.dstunnel.support.Blackhole;
import io.dstunnel.support.MisbehavingBackend;
import io.dstunnel.support.MisbehavingBackend.Mode;
import io.dstunnel.support.Proxies;
import io.dstunnel.support.Sessions;
import io.dstunnel.support.Sockets;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** Failover by replay against real demo servers and raw servers that misbehave on purpose. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FailoverTest {

  private static Buffer execute(int handle, Object... args) {
    return TunnelClient.executeRequest(handle, args);
  }

  private static Buffer blob(int n) {
    Buffer b = Buffer.buffer("{\"result\":[{\"data\":[" + n + ",");
    for (int i = 0; i < n; i++) {
      b.appendByte((byte) (i % 251));
    }
    return b.appendString("]}]}");
  }

  private static Object result(Buffer answer) {
    return new JsonObject(answer).getJsonArray("result").getValue(0);
  }

  @Test
  void answerAfterAnIdlePrimaryDiedComesFromTheStandby(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "B");
    Dstunnel proxy = Proxies.config().backend("a", a.port(), 0).backend("b", b.port(), 1).start(vertx);
    TunnelClient client = Proxies.client(vertx, proxy);
    client.handshake().await();
    int h = client.prepare("EchoString").await();
    assertThat(client.execute(h, "Delphi 2010").await()).isEqualTo("Delphi 2010 (Server A)");
    a.kill();
    assertThat(client.execute(h, "Delphi 2010").await()).isEqualTo("Delphi 2010 (Server B)");
    assertThat(client.execute(h, "again").await()).isEqualTo("again (Server B)");
  }

  @Test
  void answerInFlightWhenPrimaryDiesIsDeliveredOnce(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "B");
    Dstunnel proxy = Proxies.config().backend("a", a.port(), 0).backend("b", b.port(), 1).start(vertx);
    TunnelClient client = Proxies.client(vertx, proxy);
    client.handshake().await();
    int slow = client.prepare("SlowEcho").await();
    client.write(execute(slow, 500, "x")).await();
    a.kill();
    assertThat(result(client.readMessage().await())).isEqualTo("x (Server B)");
    int echo = client.prepare("EchoString").await();
    assertThat(echo).isEqualTo(2);
    assertThat(client.execute(echo, "after").await()).isEqualTo("after (Server B)");
  }

  @Test
  void stateOnThePrimaryIsRebuiltByReplay(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "B");
    Dstunnel proxy = Proxies.config().backend("a", a.port(), 0).backend("b", b.port(), 1).start(vertx);
    TunnelClient client = Proxies.client(vertx, proxy, 5);
    client.handshake().await();
    int h = client.prepare("Increment").await();
    for (int i = 1; i <= 10; i++) {
      assertThat(client.execute(h, i).await()).isEqualTo(i * (i + 1) / 2);
    }
    a.kill();
    assertThat(client.execute(h, 5).await()).isEqualTo(60);
  }

  @Test
  void severalFailoversInARowKeepEveryAnswerOnceAndInOrder(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "B");
    Server c = Backends.start(vertx, "C");
    Dstunnel proxy = Proxies.config().backend("a", a.port(), 0).backend("b", b.port(), 1)
        .backend("c", c.port(), 2).start(vertx);
    TunnelClient client = Proxies.client(vertx, proxy);
    client.handshake().await();
    int h = client.prepare("Increment").await();
    assertThat(client.execute(h, 1).await()).isEqualTo(1);
    a.kill();
    assertThat(client.execute(h, 1).await()).isEqualTo(2);
    b.kill();
    assertThat(client.execute(h, 1).await()).isEqualTo(3);
    a.start();
    c.kill();
    assertThat(client.execute(h, 1).await()).isEqualTo(4);
    int echo = client.prepare("EchoString").await();
    assertThat(client.execute(echo, "where").await()).isEqualTo("where (Server A)");
  }

  @Test
  void primaryThatAcceptsThenClosesIsFailedOverBeforeAnyAnswer(Vertx vertx) {
    Server b = Backends.start(vertx, "B");
    MisbehavingBackend bad = MisbehavingBackend.start(vertx, Mode.CLOSE_ON_ACCEPT, b.port(), 0);
    Dstunnel proxy = Proxies.config().backend("bad", bad.port(), 0).backend("b", b.port(), 1).start(vertx);
    TunnelClient client = Proxies.client(vertx, proxy);
    client.handshake().await();
    int h = client.prepare("EchoString").await();
    assertThat(client.execute(h, "hi").await()).isEqualTo("hi (Server B)");
  }

  @Test
  void resetInTheMiddleOfAnAnswerIsRepliedWholeFromTheStandby(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "B");
    // Filter answer (5) + connect answer (27) + prepare answer (14) + 10 bytes of the next answer.
    MisbehavingBackend bad = MisbehavingBackend.start(vertx, Mode.RESET_AFTER_BYTES, a.port(), 5 + 27 + 14 + 10);
    Dstunnel proxy = Proxies.config().backend("bad", bad.port(), 0).backend("b", b.port(), 1).start(vertx);
    TunnelClient client = Proxies.client(vertx, proxy, 7);
    client.handshake().await();
    int h = client.prepare("EchoString").await();
    assertThat(client.execute(h, "cut").await()).isEqualTo("cut (Server B)");
    assertThat(client.execute(h, "next").await()).isEqualTo("next (Server B)");
  }

  @Test
  void answerTrickledOneByteAtATimeIsHandedOutWhole(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    MisbehavingBackend slow = MisbehavingBackend.start(vertx, Mode.ONE_BYTE_AT_A_TIME, a.port(), 0);
    Dstunnel proxy = Proxies.config().backend("slow", slow.port(), 0).start(vertx);
    TunnelClient client = Proxies.client(vertx, proxy);
    client.handshake().await();
    int h = client.prepare("EchoString").await();
    client.write(execute(h, "whole")).await();
    Buffer first = io.dstunnel.support.RawReads.readOnce(vertx, proxy.port(), client.sessionId(), 32768);
    assertThat(first.toString()).isEqualTo("{\"result\":[\"whole (Server A)\"]}");
  }

  @Test
  void failureInTheMiddleOfAStreamedAnswerEndsTheSessionWith502(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "B");
    MisbehavingBackend bad = MisbehavingBackend.start(vertx, Mode.RESET_AFTER_BYTES, a.port(), 5 + 27 + 14 + 5000);
    Dstunnel proxy = Proxies.config().backend("bad", bad.port(), 0).backend("b", b.port(), 1)
        .set("session", "heldAnswerLimitBytes", 1000).start(vertx);
    TunnelClient client = Proxies.client(vertx, proxy, 100_000);
    client.handshake().await();
    int h = client.prepare("Blob").await();
    client.write(execute(h, 20_000)).await();
    assertThatThrownBy(() -> client.readMessage().await())
        .isInstanceOfSatisfying(TunnelError.class, e -> assertThat(e.status()).isEqualTo(502));
  }

  @Test
  void largeAnswerOverTheHeldLimitStreamsAndArrivesIntact(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Dstunnel proxy = Proxies.config().backend("a", a.port(), 0).set("session", "heldAnswerLimitBytes", 1000)
        .start(vertx);
    TunnelClient client = Proxies.client(vertx, proxy, 4096);
    client.handshake().await();
    int h = client.prepare("Blob").await();
    Buffer answer = client.call(execute(h, 200_000)).await();
    assertThat(answer).isEqualTo(blob(200_000));
  }

  @Test
  void sessionOverItsReplayLimitWorksButEndsWith502OnFailure(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "B");
    Dstunnel proxy = Proxies.config().backend("a", a.port(), 0).backend("b", b.port(), 1)
        .set("session", "replayLimitBytes", 200).start(vertx);
    TunnelClient client = Proxies.client(vertx, proxy);
    client.handshake().await();
    int h = client.prepare("EchoString").await();
    for (int i = 0; i < 5; i++) {
      assertThat(client.execute(h, "over the cap " + i).await()).isEqualTo("over the cap " + i + " (Server A)");
    }
    a.kill();
    assertThatThrownBy(() -> client.execute(h, "lost").await())
        .isInstanceOfSatisfying(TunnelError.class, e -> assertThat(e.status()).isEqualTo(502));
  }

  /**
   * Defect 9: the replay cap was not checked while a failover was connecting, so writes taken in
   * that window grew the log past the cap and were all replayed. Here the first standby never
   * completes the handshake, which holds the failover while a write takes the log over its cap.
   */
  @Test
  void writeThatTakesTheLogOverItsCapWhileFailingOverEndsTheSessionInsteadOfReplaying(Vertx vertx)
      throws Exception {
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "B");
    try (Blackhole hole = Blackhole.start()) {
      Dstunnel proxy = Proxies.config().backend("a", a.port(), 0).backend("hole", hole.port(), 1)
          .backend("b", b.port(), 2).set("session", "replayLimitBytes", 2000)
          .set("pool", "connectTimeoutMs", 600_000).set("health", "intervalMs", 3_600_000)
          .set("health", "fall", 100).start(vertx);
      TunnelClient client = Proxies.client(vertx, proxy);
      client.handshake().await();
      int h = client.prepare("EchoString").await();
      assertThat(client.execute(h, "before").await()).isEqualTo("before (Server A)");
      a.kill();
      await().atMost(Duration.ofSeconds(10))
          .until(() -> !Sessions.snapshot(proxy, client.sessionId()).getBoolean("connected"));

      client.write(TunnelClient.executeRequest(h, "first")).await();
      await().atMost(Duration.ofSeconds(10))
          .until(() -> "FAILING_OVER".equals(Sessions.snapshot(proxy, client.sessionId()).getString("state")));
      client.write(TunnelClient.executeRequest(h, "x".repeat(3000))).await();
      hole.close();

      assertThatThrownBy(() -> client.readMessage().await())
          .isInstanceOfSatisfying(TunnelError.class, e -> assertThat(e.status()).isEqualTo(502));
    }
  }

  @Test
  void sessionThatCannotFailOverAnswers502AndNoBackendOnOpenIs502(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Dstunnel proxy = Proxies.config().backend("a", a.port(), 0).start(vertx);
    TunnelClient client = Proxies.client(vertx, proxy);
    client.handshake().await();
    int h = client.prepare("EchoString").await();
    a.kill();
    assertThatThrownBy(() -> client.execute(h, "nobody").await())
        .isInstanceOfSatisfying(TunnelError.class, e -> assertThat(e.status()).isEqualTo(502));
    TunnelClient fresh = Proxies.client(vertx, proxy);
    assertThatThrownBy(() -> fresh.handshake().await())
        .isInstanceOfSatisfying(TunnelError.class, e -> assertThat(e.status()).isEqualTo(502));
  }

  @Test
  void maxFailoversBoundsHowOftenASessionMoves(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "B");
    Dstunnel proxy = Proxies.config().backend("a", a.port(), 0).backend("b", b.port(), 1)
        .set("session", "maxFailovers", 1).start(vertx);
    TunnelClient client = Proxies.client(vertx, proxy);
    client.handshake().await();
    int h = client.prepare("EchoString").await();
    a.kill();
    assertThat(client.execute(h, "one").await()).isEqualTo("one (Server B)");
    a.start();
    b.kill();
    assertThatThrownBy(() -> client.execute(h, "two").await())
        .isInstanceOfSatisfying(TunnelError.class, e -> assertThat(e.status()).isEqualTo(502));
  }

  @Test
  void rawFramingDropsTheBytesTheClientAlreadyHas(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "A"); // same name: raw replay only works for identical answers
    Dstunnel proxy = Proxies.config().backend("a", a.port(), 0).backend("b", b.port(), 1)
        .set("session", "framing", "raw").start(vertx);
    TunnelClient client = Proxies.client(vertx, proxy);
    client.handshake().await();
    int h = client.prepare("Increment").await();
    assertThat(client.execute(h, 2).await()).isEqualTo(2);
    a.kill();
    assertThat(client.execute(h, 3).await()).isEqualTo(5);
  }

  @Test
  void rawSessionWhoseServerClosesAfterDisconnectIsNotFailedOver(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "B");
    // fall 1 and a slow check: one failure reported by a session marks A down until the test ends.
    Dstunnel proxy = Proxies.config().backend("a", a.port(), 0).backend("b", b.port(), 1)
        .set("session", "framing", "raw").set("health", "fall", 1).set("health", "intervalMs", 600_000)
        .start(vertx);
    TunnelClient client = Proxies.client(vertx, proxy);
    client.handshake().await();
    assertThat(client.call(Buffer.buffer("{\"method\":\"disconnect\",\"params\":[]}")).await().toString())
        .isEqualTo("{\"result\":[]}");
    // The demo server closes after a disconnect; the session lets its connection go quietly.
    org.awaitility.Awaitility.await().until(() -> proxy.pool().byName("a").sessions() == 0);
    assertThat(proxy.pool().byName("a").isUp()).as("a normal close is no backend failure").isTrue();
    client.close().await();
    assertThat(proxy.metrics().failovers()).isZero();
    assertThat(proxy.pool().byName("b").sessions()).isZero();
  }

  @Test
  void backendPausedForASlowReaderIsNotTakenForHung(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Server b = Backends.start(vertx, "B");
    Dstunnel proxy = Proxies.config().backend("a", a.port(), 0).backend("b", b.port(), 1)
        .set("pool", "answerTimeoutMs", 300).set("session", "pendingReadLimitBytes", 16 * 1024)
        .set("health", "fall", 1).set("health", "intervalMs", 600_000).start(vertx);
    TunnelClient slowReader = Proxies.client(vertx, proxy);
    slowReader.handshake().await();
    int blob = slowReader.prepare("Blob").await();
    // Three large answers asked for at once and not read: the proxy pauses A after the first.
    slowReader.write(Buffer.buffer().appendBuffer(execute(blob, 100_000)).appendBuffer(execute(blob, 100_000))
        .appendBuffer(execute(blob, 100_000))).await();
    // Meanwhile a client of A's own, beside the proxy, waits five answer timeouts for a slow answer.
    assertThat(slowAnswerFrom(vertx, a.port(), 1500)).endsWith("{\"result\":[\"later (Server A)\"]}");
    for (int i = 0; i < 3; i++) {
      assertThat(slowReader.readMessage().await()).isEqualTo(blob(100_000));
    }
    assertThat(proxy.metrics().failovers()).isZero();
    assertThat(proxy.pool().byName("a").isUp()).isTrue();
  }

  /** Calls SlowEcho({@code ms}) on a demo server directly over TCP; the answer bytes as text. */
  private static String slowAnswerFrom(Vertx vertx, int port, int ms) {
    io.vertx.core.Promise<String> answered = io.vertx.core.Promise.promise();
    Buffer received = Buffer.buffer();
    io.vertx.core.net.NetSocket socket = Sockets.connect(vertx, port).await();
    socket.handler(chunk -> {
      received.appendBuffer(chunk);
      if (received.toString().contains("later")) {
        answered.tryComplete(received.toString());
      }
    });
    socket.write(Buffer.buffer("{\"method\":\"prepare\",\"params\":[-1,false,\"DSServerMethod\",\"TServerMethods1.SlowEcho\"]}")
        .appendBuffer(execute(1, ms, "later")));
    String text = answered.future().await();
    socket.close();
    return text;
  }

  @Test
  void backendThatAcceptsButNeverAnswersGoesDownThoughEveryConnectSucceeds(Vertx vertx) {
    Server b = Backends.start(vertx, "B");
    MisbehavingBackend deaf = MisbehavingBackend.start(vertx, Mode.HANG, b.port(), 0);
    Dstunnel proxy = Proxies.config().backend("a", deaf.port(), 0).backend("b", b.port(), 1)
        .set("pool", "answerTimeoutMs", 200).set("health", "fall", 2).set("health", "intervalMs", 600_000)
        .start(vertx);
    for (int i = 0; i < 3; i++) {
      TunnelClient client = Proxies.client(vertx, proxy);
      client.handshake().await();
      assertThat(client.execute(client.prepare("EchoString").await(), "hi").await()).isEqualTo("hi (Server B)");
    }
    assertThat(proxy.pool().byName("a").isUp()).as("two hangs in a row mark it down").isFalse();
  }
}
