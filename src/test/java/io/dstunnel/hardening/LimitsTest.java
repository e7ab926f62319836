// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.hardening;

import static io.dstunnel.support.RawHttp.basic;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.dstunnel.Dstunnel;
import io.dstunnel.auth.Passwords;
import io.dstunnel.demo.TunnelClient;
import io.dstunnel.support.Backends;
import io.dstunnel.support.Backends.Server;
import io.dstunnel.support.Proxies;
import io.dstunnel.support.RawHttp;
import io.dstunnel.support.RawHttp.Answer;
import io.dstunnel.support.Sockets;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SelfSignedCertificate;
import io.vertx.ext.auth.hashing.HashingStrategy;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** TLS, password hashes, login throttling and every limit, over real sockets. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LimitsTest {

  private static final String T = "/datasnap/tunnel";
  private static final String ADMIN = basic("admin", "admin");

  private static String open(RawHttp http) {
    Answer a = http.put(T + "?dss=0&c=5", TunnelClient.FILTER_QUERY, "Authorization", ADMIN);
    assertThat(a.status()).isEqualTo(200);
    return a.json().getJsonArray("response").getString(0);
  }

  @Test
  void tunnelServesHttpsWithAPemCertificate(Vertx vertx) {
    SelfSignedCertificate cert = SelfSignedCertificate.create("localhost");
    Server a = Backends.start(vertx, "A");
    Dstunnel proxy = Proxies.config().backend("a", a.port(), 0)
        .set("http", "tls", new JsonObject().put("certPath", cert.certificatePath()).put("keyPath", cert.privateKeyPath()))
        .start(vertx);
    var https = vertx.createHttpClient(new HttpClientOptions().setSsl(true).setTrustAll(true).setVerifyHost(false));
    var answer = https.request(new RequestOptions().setMethod(HttpMethod.PUT).setHost("127.0.0.1").setPort(proxy.port())
            .setURI(T + "?dss=0&c=5").putHeader("Authorization", ADMIN))
        .compose(req -> req.send(TunnelClient.FILTER_QUERY))
        .compose(resp -> resp.body().map(b -> resp.statusCode() + " " + b)).await();
    assertThat(answer).startsWith("200 {\"response\":[");
    // Plain HTTP on the TLS port gets no tunnel answer.
    NetSocket plain = Sockets.connect(vertx, proxy.port()).await();
    Buffer got = Buffer.buffer();
    plain.handler(got::appendBuffer);
    plain.write("GET " + T + "?dss=x&c=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    await().pollDelay(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5)).until(() -> true);
    assertThat(got.toString()).doesNotContain("Session expired");
  }

  @Test
  void hashPasswordOutputIsAPhcStringThatVerifies() {
    String hash = Passwords.hash("correct horse");
    assertThat(hash).startsWith("$pbkdf2$it=" + Passwords.ITERATIONS + "$");
    assertThat(HashingStrategy.load().verify(hash, "correct horse")).isTrue();
    assertThat(HashingStrategy.load().verify(hash, "wrong horse")).isFalse();
    assertThat(Passwords.hash("correct horse")).isNotEqualTo(hash);
  }

  @Test
  void failedLoginsFromOneAddressAreRefusedWith429(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Dstunnel proxy = Proxies.config().backend("a", a.port(), 0).set("auth", "maxFailures", 3)
        .set("auth", "failureWindowMs", 1500).start(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    for (int i = 0; i < 3; i++) {
      assertThat(http.put(T + "?dss=0&c=5", TunnelClient.FILTER_QUERY, "Authorization", basic("admin", "guess" + i))
          .status()).isEqualTo(401);
    }
    Answer refused = http.put(T + "?dss=0&c=5", TunnelClient.FILTER_QUERY, "Authorization", ADMIN);
    assertThat(refused.status()).isEqualTo(429);
    assertThat(refused.error()).startsWith("Too many failed logins");
    assertThat(Integer.parseInt(refused.headers().get("Retry-After"))).isBetween(1, 2);
    await().atMost(Duration.ofSeconds(5)).until(() ->
        http.put(T + "?dss=0&c=5", TunnelClient.FILTER_QUERY, "Authorization", ADMIN).status() == 200);
  }

  @Test
  void sessionsPerUserAreLimitedWith429(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Dstunnel proxy = Proxies.config().backend("a", a.port(), 0).set("session", "maxSessionsPerUser", 2).start(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    String first = open(http);
    open(http);
    Answer third = http.put(T + "?dss=0&c=5", TunnelClient.FILTER_QUERY, "Authorization", ADMIN);
    assertThat(third.status()).isEqualTo(429);
    assertThat(third.error()).isEqualTo("Too many sessions for user admin");
    assertThat(http.put(T + "?dss=0&c=5", TunnelClient.FILTER_QUERY, "Authorization", basic("eve", "secret"))
        .status()).isEqualTo(200);
    http.send(HttpMethod.POST, T + "?dss=" + first, Buffer.buffer("dss=-" + first));
    await().atMost(Duration.ofSeconds(5)).until(() ->
        http.put(T + "?dss=0&c=5", TunnelClient.FILTER_QUERY, "Authorization", ADMIN).status() == 200);
  }

  private static String raw(Vertx vertx, int port, String request, long waitMs) {
    NetSocket s = Sockets.connect(vertx, port).await();
    Buffer got = Buffer.buffer();
    s.handler(got::appendBuffer);
    boolean[] closed = {false};
    s.closeHandler(v -> closed[0] = true);
    s.write(request);
    await().atMost(Duration.ofMillis(waitMs)).until(() -> closed[0]);
    return got.toString();
  }

  @Test
  void overlongRequestLineAndHeadersGet414And431WithJson(Vertx vertx) {
    Dstunnel proxy = Proxies.config().backend("a", Backends.start(vertx, "A").port(), 0).start(vertx);
    String line = raw(vertx, proxy.port(), "GET " + T + "?dss=" + "x".repeat(5000) + "&c=1 HTTP/1.1\r\nHost: x\r\n\r\n", 5000);
    assertThat(line).containsPattern("^HTTP/1.[01] 414 Request line too long").contains("{\"error\":\"Request line too long\"}");
    String headers = raw(vertx, proxy.port(), "GET " + T + "?dss=x&c=1 HTTP/1.1\r\nHost: x\r\nX-Big: " + "y".repeat(9000)
        + "\r\n\r\n", 5000);
    assertThat(headers).containsPattern("^HTTP/1.[01] 431 Request headers too large");
  }

  @Test
  void slowBodyIsCutOffWith408AndIdleConnectionsAreClosed(Vertx vertx) throws Exception {
    Dstunnel proxy = Proxies.config().backend("a", Backends.start(vertx, "A").port(), 0)
        .set("http", "requestTimeoutMs", 300).set("http", "idleTimeoutMs", 400).start(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    String sid = open(http);
    NetSocket slow = Sockets.connect(vertx, proxy.port()).await();
    Buffer got = Buffer.buffer();
    slow.handler(got::appendBuffer);
    slow.write("PUT " + T + "?dss=" + sid + "&c=10 HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{");
    await().atMost(Duration.ofSeconds(5)).until(() -> got.toString().contains("408"));
    assertThat(got.toString()).startsWith("HTTP/1.1 408 Request body not received within 300 ms");

    // An idle connection is closed, a held read (a request under way) is not: the held read starts
    // first, and an idle connection opened after it is closed by the sweep while the read goes on.
    http.get(T + "?dss=" + sid + "&c=100");
    var held = new RawHttp(vertx, proxy.port()).sendAsync(HttpMethod.GET, T + "?dss=" + sid + "&c=100", null);
    io.dstunnel.support.Sessions.awaitHeldReads(proxy, sid, 1);
    NetSocket idle = Sockets.connect(vertx, proxy.port()).await();
    boolean[] closed = {false};
    idle.closeHandler(v -> closed[0] = true);
    await().atMost(Duration.ofSeconds(5)).until(() -> closed[0]);
    assertThat(held.isComplete()).isFalse();
    http.put(T + "?dss=" + sid, Buffer.buffer("{\"method\":\"connect\",\"params\":[]}"));
    assertThat(held.await().body().toString()).isEqualTo("{\"result\":[1,\"DataSnap\",2]}");
  }

  @Test
  void clientThatDoesNotReadPausesTheBackendInsteadOfBuffering(Vertx vertx) throws Exception {
    Server a = Backends.start(vertx, "A");
    Dstunnel proxy = Proxies.config().backend("a", a.port(), 0).set("session", "heldAnswerLimitBytes", 10_000)
        .set("session", "pendingReadLimitBytes", 64 * 1024).start(vertx);
    TunnelClient c = Proxies.client(vertx, proxy, 1 << 20);
    c.handshake().await();
    int blob = c.prepare("Blob").await();
    int n = 8 << 20;
    c.write(TunnelClient.executeRequest(blob, n)).await();
    // Once the backend is paused, what the proxy holds for the session stops growing.
    long pending = io.dstunnel.support.Sessions.awaitBackendPaused(proxy, c.sessionId()).getLong("pendingBytes");
    assertThat(pending).isLessThan(64 * 1024 + 512 * 1024).isGreaterThan(0);
    Buffer answer = c.readMessage().await();
    assertThat(answer.length()).isEqualTo(n + ("{\"result\":[{\"data\":[" + n + ",]}]}").length());
    for (int i = 0; i < n; i += 4099) {
      assertThat(answer.getByte(answer.length() - 4 - n + i)).isEqualTo((byte) (i % 251));
    }
  }

  @Test
  void backendThatDoesNotReadGetsWritesRefusedUntakenNeverTakenAndTimedOut(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    var deaf = io.dstunnel.support.MisbehavingBackend.start(vertx,
        io.dstunnel.support.MisbehavingBackend.Mode.NO_READ, a.port(), 0);
    Dstunnel proxy = Proxies.config().backend("deaf", deaf.port(), 0)
        .set("session", "writeWaitMs", 300).set("session", "replayLimitBytes", 256 << 20).start(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    String sid = open(http);
    Buffer mib = Buffer.buffer(new byte[1 << 20]);
    long taken = 5;
    int refused = 0;
    for (int i = 0; i < 64 && refused == 0; i++) {
      RawHttp.Answer answer = http.put(T + "?dss=" + sid, mib);
      assertThat(answer.status()).as("write %d: taken (200) or refused untaken (503)", i).isIn(200, 503);
      if (answer.status() == 200) {
        taken += mib.length();
      } else {
        refused++;
        assertThat(answer.error()).contains("not taken");
      }
    }
    assertThat(refused).as("the proxy pushed back before 64 MiB").isEqualTo(1);
    // What the session took is exactly what it answered 200 for: the refused MiB is not in its log.
    RawHttp admin = new RawHttp(vertx, proxy.adminPort());
    long logged = admin.get("/admin/sessions", "Authorization", ADMIN).json().getJsonArray("sessions")
        .getJsonObject(0).getLong("replayBytes");
    assertThat(logged).isEqualTo(taken);
  }
}
