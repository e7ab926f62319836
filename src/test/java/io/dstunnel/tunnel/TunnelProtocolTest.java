// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.tunnel;

import static io.dstunnel.support.RawHttp.basic;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.dstunnel.Dstunnel;
import io.dstunnel.demo.TunnelClient;
import io.dstunnel.support.Backends;
import io.dstunnel.support.Backends.Server;
import io.dstunnel.support.Proxies;
import io.dstunnel.support.RawHttp;
import io.dstunnel.support.Sessions;
import io.dstunnel.support.RawHttp.Answer;
import io.dstunnel.support.Sockets;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.net.NetSocket;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The client side of the tunnel over real HTTP: every request form and every error row. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TunnelProtocolTest {

  private static final String T = "/datasnap/tunnel";
  private static final Buffer FILTER = TunnelClient.FILTER_QUERY;
  private static final String ADMIN = basic("admin", "admin");

  private Server server;

  @BeforeEach
  void server(Vertx vertx) {
    server = Backends.start(vertx, "A");
  }

  private Dstunnel proxy(Vertx vertx) {
    return Proxies.config().backend("a", server.port(), 0).start(vertx);
  }

  private static String open(RawHttp http) {
    Answer a = http.put(T + "?dss=0&c=5", FILTER, "Authorization", ADMIN);
    assertThat(a.status()).isEqualTo(200);
    return a.json().getJsonArray("response").getString(0);
  }

  private static void assertError(Answer a, int status, String message) {
    assertThat(a.status()).as("status of %s", a).isEqualTo(status);
    assertThat(a.reason()).isEqualTo(message);
    assertThat(a.headers().get("Content-Type")).isEqualTo("application/json");
    assertThat(a.error()).isEqualTo(message);
  }

  @Test
  void openWriteReadAndCloseFollowTheProtocol(Vertx vertx) {
    Dstunnel proxy = proxy(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    Answer opened = http.put(T + "?dss=0&c=5", FILTER, "Authorization", ADMIN);
    assertThat(opened.status()).isEqualTo(200);
    String sid = opened.json().getJsonArray("response").getString(0);
    assertThat(opened.json().getJsonArray("response").getInteger(1)).isEqualTo(5);
    Answer read = http.get(T + "?dss=" + sid + "&c=100");
    assertThat(read.status()).isEqualTo(200);
    assertThat(read.headers().get("Content-Type")).isEqualTo("application/octet-stream");
    assertThat(read.headers().get("Content-Length")).isEqualTo("5");
    assertThat(read.headers().get("Transfer-Encoding")).isNull();
    assertThat(read.body().getBytes()).containsExactly(6, 0, 0, 0, 0);
    Buffer connect = Buffer.buffer("{\"method\":\"connect\",\"params\":[{}]}");
    Answer written = http.send(HttpMethod.POST, T + "?dss=" + sid, connect);
    assertThat(written.json().getJsonArray("response").getInteger(1)).isEqualTo(connect.length());
    assertThat(http.get(T + "?dss=" + sid + "&c=4").body().toString()).isEqualTo("{\"re");
    assertThat(http.get(T + "?dss=" + sid + "&c=1000").body().toString()).isEqualTo("sult\":[1,\"DataSnap\",2]}");
    Answer closed = http.send(HttpMethod.POST, T, Buffer.buffer("dss=-" + sid),
        "Content-Type", "application/x-www-form-urlencoded");
    assertThat(closed.status()).isEqualTo(200);
    assertError(http.get(T + "?dss=" + sid + "&c=10"), 404, "Session expired");
  }

  @Test
  void malformedRequestsGet400WithAJsonError(Vertx vertx) {
    Dstunnel proxy = proxy(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    String sid = open(http);
    assertError(http.get(T + "?c=10"), 400, "HTTP request is missing the session parameter");
    assertError(http.put(T + "?c=3", Buffer.buffer("abc")), 400, "HTTP request is missing the session parameter");
    assertError(http.get(T + "?dss=" + sid), 400, "HTTP request misses the count parameter");
    assertError(http.get(T + "?dss=" + sid + "&c=abc"), 400, "Count parameter is not a number");
    assertError(http.get(T + "?dss=" + sid + "&c=0"), 400, "Count parameter must be at least 1");
    assertError(http.put(T + "?dss=" + sid + "&c=99", Buffer.buffer("abc")), 400,
        "Count parameter 99 does not match the 3 body bytes");
    assertError(http.get(T + "?dss=" + sid + "&dss=" + sid + "&c=1"), 400, "Parameter dss given more than once");
    // The session was not disturbed.
    assertThat(http.get(T + "?dss=" + sid + "&c=10").body().getBytes()).containsExactly(6, 0, 0, 0, 0);
  }

  @Test
  void unknownPathsSessionsAndMethodsAreRefused(Vertx vertx) {
    Dstunnel proxy = proxy(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    String sid = open(http);
    assertError(http.get(T + "?dss=nosuchsession&c=10"), 404, "Session expired");
    assertError(http.get(T + "?dss=AAAAAAAAAAAAAAAAAAAAAAAA&c=10"), 404, "Session expired");
    assertError(http.get("/datasnap/rest/x"), 404, "Not found");
    assertError(http.get("/elsewhere"), 404, "Not found");
    assertError(http.send(HttpMethod.DELETE, T + "?dss=" + sid, null), 405, "Accepted commands are: GET, POST and PUT");
    assertError(http.send(HttpMethod.OPTIONS, T, null), 405, "Accepted commands are: GET, POST and PUT");
  }

  @Test
  void openNeedsValidCredentialsAndSessionsBelongToTheirOwner(Vertx vertx) {
    Dstunnel proxy = proxy(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    for (String auth : new String[] {null, basic("admin", "wrong"), basic("nobody", "admin"), "Basic !!!", "Bearer x"}) {
      Answer a = auth == null ? http.put(T + "?dss=0&c=5", FILTER) : http.put(T + "?dss=0&c=5", FILTER, "Authorization", auth);
      assertError(a, 401, "Authentication failed");
      assertThat(a.headers().get("WWW-Authenticate")).isEqualTo("Basic realm=\"dstunnel\"");
    }
    String sid = open(http);
    assertError(http.get(T + "?dss=" + sid + "&c=10", "Authorization", basic("eve", "secret")), 403,
        "Session belongs to another user");
    assertError(http.put(T + "?dss=" + sid, Buffer.buffer("{}"), "Authorization", basic("admin", "bad")), 403,
        "Session belongs to another user");
    assertError(http.send(HttpMethod.POST, T, Buffer.buffer("dss=-" + sid), "Authorization", basic("eve", "secret")),
        403, "Session belongs to another user");
    // The owner's session still works, with or without credentials.
    assertThat(http.get(T + "?dss=" + sid + "&c=10", "Authorization", ADMIN).body().length()).isEqualTo(5);
  }

  @Test
  void writeOverTheLimitIs413WithoutReadingTheBody(Vertx vertx) {
    Dstunnel proxy = Proxies.config().backend("a", server.port(), 0).set("http", "writeLimitBytes", 1000)
        .start(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    String sid = open(http);
    assertError(http.put(T + "?dss=" + sid, Buffer.buffer(new byte[1001])), 413, "Write exceeds 1000 bytes");
    // A client that announces a huge body and sends one byte is answered at once.
    NetSocket raw = Sockets.connect(vertx, proxy.port()).await();
    Buffer got = Buffer.buffer();
    raw.handler(got::appendBuffer);
    raw.write("PUT " + T + "?dss=0&c=5 HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n\u0005");
    await().atMost(Duration.ofSeconds(10)).until(() -> got.toString().contains("Write exceeds"));
    assertThat(got.toString()).startsWith("HTTP/1.1 413 Write exceeds 1000 bytes");
    // A chunked body, with no length announced, is cut off once it passes the limit.
    NetSocket chunked = Sockets.connect(vertx, proxy.port()).await();
    Buffer answer = Buffer.buffer();
    chunked.handler(answer::appendBuffer);
    chunked.write("PUT " + T + "?dss=" + sid + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "800\r\n" + "x".repeat(0x800) + "\r\n");
    await().atMost(Duration.ofSeconds(10)).until(() -> answer.toString().contains("Write exceeds"));
    assertThat(answer.toString()).startsWith("HTTP/1.1 413 Write exceeds 1000 bytes");
    assertThat(http.get(T + "?dss=" + sid + "&c=10").body().length()).isEqualTo(5);
  }

  @Test
  void readIsHeldUntilBytesArriveAndOutlivesItsConnection(Vertx vertx) throws Exception {
    Dstunnel proxy = proxy(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    String sid = open(http);
    http.get(T + "?dss=" + sid + "&c=10");
    Future<Answer> held = new RawHttp(vertx, proxy.port()).sendAsync(HttpMethod.GET, T + "?dss=" + sid + "&c=100", null);
    Sessions.awaitHeldReads(proxy, sid, 1);
    assertThat(held.isComplete()).isFalse();
    new RawHttp(vertx, proxy.port()).put(T + "?dss=" + sid, Buffer.buffer("{\"method\":\"connect\",\"params\":[]}"));
    assertThat(held.await().body().toString()).isEqualTo("{\"result\":[1,\"DataSnap\",2]}");
  }

  @Test
  void readTimeoutAnswers504AndKeepsTheSession(Vertx vertx) {
    Dstunnel proxy = Proxies.config().backend("a", server.port(), 0).set("http", "readTimeoutMs", 200).start(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    String sid = open(http);
    http.get(T + "?dss=" + sid + "&c=10");
    assertError(http.get(T + "?dss=" + sid + "&c=10"), 504, "No data within 200 ms");
    http.put(T + "?dss=" + sid, Buffer.buffer("{\"method\":\"connect\",\"params\":[]}"));
    assertThat(http.get(T + "?dss=" + sid + "&c=100").status()).isEqualTo(200);
  }

  @Test
  void noBackendOnOpenIs502(Vertx vertx) {
    Dstunnel proxy = proxy(vertx);
    server.kill();
    assertError(new RawHttp(vertx, proxy.port()).put(T + "?dss=0&c=5", FILTER, "Authorization", ADMIN), 502,
        "No backend available");
  }

  @Test
  void sessionLimitAnswers503(Vertx vertx) {
    Dstunnel proxy = Proxies.config().backend("a", server.port(), 0).set("session", "maxSessions", 2).start(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    String first = open(http);
    open(http);
    assertError(http.put(T + "?dss=0&c=5", FILTER, "Authorization", ADMIN), 503, "Proxy is over its session limit");
    http.send(HttpMethod.POST, T + "?dss=" + first, Buffer.buffer("dss=-" + first));
    await().atMost(Duration.ofSeconds(5)).until(() ->
        http.put(T + "?dss=0&c=5", FILTER, "Authorization", ADMIN).status() == 200);
  }

  @Test
  void idleSessionsExpire(Vertx vertx) {
    Dstunnel proxy = Proxies.config().backend("a", server.port(), 0).set("session", "idleTimeoutMs", 300)
        .start(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    String sid = open(http);
    assertThat(proxy.sessions().open()).isEqualTo(1);
    await().atMost(Duration.ofSeconds(10)).until(() -> proxy.sessions().open() == 0);
    assertError(http.get(T + "?dss=" + sid + "&c=1"), 404, "Session expired");
  }

  @Test
  void sessionIdsAreLongRandomAndUrlSafe(Vertx vertx) {
    Dstunnel proxy = proxy(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < 50; i++) {
      String sid = open(http);
      assertThat(sid).matches("[A-Za-z0-9_-]{24}");
      ids.add(sid);
    }
    assertThat(ids).hasSize(50);
  }

  @Test
  void bothCloseFormsEndTheSessionAndAnswerAHeldRead404(Vertx vertx) throws Exception {
    Dstunnel proxy = proxy(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    String xe2 = open(http);
    http.get(T + "?dss=" + xe2 + "&c=10");
    Future<Answer> held = new RawHttp(vertx, proxy.port()).sendAsync(HttpMethod.GET, T + "?dss=" + xe2 + "&c=10", null);
    Sessions.awaitHeldReads(proxy, xe2, 1);
    assertThat(http.send(HttpMethod.POST, T, Buffer.buffer("dss=-" + xe2),
        "Content-Type", "application/x-www-form-urlencoded").status()).isEqualTo(200);
    assertError(held.await(), 404, "Session expired");
    String d11 = open(http);
    assertThat(http.send(HttpMethod.POST, T + "?dss=" + d11, Buffer.buffer("dss=-" + d11),
        "Content-Type", "application/x-www-form-urlencoded").status()).isEqualTo(200);
    assertError(http.get(T + "?dss=" + d11 + "&c=10"), 404, "Session expired");
  }

  @Test
  void readAbandonedByItsClientDoesNotSwallowTheAnswer(Vertx vertx) throws Exception {
    Dstunnel proxy = proxy(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    String sid = open(http);
    http.get(T + "?dss=" + sid + "&c=10");
    NetSocket raw = Sockets.connect(vertx, proxy.port()).await();
    raw.write("GET " + T + "?dss=" + sid + "&c=100 HTTP/1.1\r\nHost: x\r\n\r\n").await();
    Sessions.awaitHeldReads(proxy, sid, 1);
    raw.close().await();
    Sessions.awaitHeldReads(proxy, sid, 0);
    http.put(T + "?dss=" + sid, Buffer.buffer("{\"method\":\"connect\",\"params\":[]}"));
    assertThat(http.get(T + "?dss=" + sid + "&c=100").body().toString()).isEqualTo("{\"result\":[1,\"DataSnap\",2]}");
  }
}
