// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.rest;

import static io.dstunnel.support.RawHttp.basic;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dstunnel.Dstunnel;
import io.dstunnel.demo.DemoRestVerticle;
import io.dstunnel.demo.DemoServerVerticle;
import io.dstunnel.demo.TunnelClient;
import io.dstunnel.support.Backends;
import io.dstunnel.support.Proxies;
import io.dstunnel.support.RawHttp;
import io.dstunnel.support.RawHttp.Answer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import io.vertx.junit5.VertxExtension;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** DataSnap REST through dstunnel (rest.md), over real HTTP to the demo server's REST side. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RestTest {

  private static final String REST = "/datasnap/rest/TServerMethods1";
  private static final String ADMIN = basic("admin", "admin");
  private static final Pattern SESSION = Pattern.compile("dssession=([^,\\s]+)");

  /** A demo server with its REST side; killed as a crashed server is (both ports closed). */
  private static final class Server {
    final Vertx vertx;
    final String name;
    String tcp;
    String rest;
    DemoRestVerticle restSide;
    int port;
    int httpPort;

    Server(Vertx vertx, String name) {
      this.vertx = vertx;
      this.name = name;
      DemoServerVerticle t = new DemoServerVerticle("127.0.0.1", 0, name);
      tcp = vertx.deployVerticle(t).await();
      port = t.actualPort();
      // Its REST port restarts: one below the ephemeral range, which no outgoing connection takes
      // meanwhile (CI saw a restart on a port from that range fail: "Address already in use").
      DemoRestVerticle r = new DemoRestVerticle("127.0.0.1", Backends.freePort(), name);
      restSide = r;
      rest = vertx.deployVerticle(r).await();
      httpPort = r.actualPort();
    }

    void kill() {
      vertx.undeploy(rest).await();
      vertx.undeploy(tcp).await();
    }

    /** The REST side killed and started again on its port: it knows no session any more. */
    void restartRest() {
      vertx.undeploy(rest).await();
      // Tried again until its port takes it: a restart once found it "already in use", though no
      // other socket of the machine may take a port below the ephemeral range.
      Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> {
        DemoRestVerticle again = new DemoRestVerticle("127.0.0.1", httpPort, name);
        try {
          rest = vertx.deployVerticle(again).await();
        } catch (Exception busy) {
          return false;
        }
        restSide = again;
        return true;
      });
    }
  }

  private static Proxies config(Server... servers) {
    Proxies p = Proxies.config();
    int priority = 0;
    for (Server s : servers) {
      p.backend(s.name.toLowerCase(), s.port, priority++);
    }
    JsonArray backends = p.json().getJsonArray("backends");
    for (int i = 0; i < servers.length; i++) {
      backends.getJsonObject(i).put("httpPort", servers[i].httpPort);
    }
    return p;
  }

  /** Health checks that never take a backend down on their own: what the requests meet decides. */
  private static Proxies unwatched(Proxies p) {
    return p.set("health", "intervalMs", 3_600_000).set("health", "fall", 100);
  }

  /** Both servers of the same priority: new sessions alternate between them. */
  private static Proxies balanced(Server a, Server b) {
    Proxies p = config(a, b);
    p.json().getJsonArray("backends").getJsonObject(1).put("priority", 0);
    return p;
  }

  private static String session(Answer a) {
    String pragma = a.headers().get("Pragma");
    Matcher m = pragma == null ? null : SESSION.matcher(pragma);
    return m != null && m.find() ? m.group(1) : null;
  }

  private static Object result(Answer a) {
    assertThat(a.status()).as(a.body().toString()).isEqualTo(200);
    return a.json().getJsonArray("result").getValue(0);
  }

  @Test
  void aSessionGetsDstunnelsOwnIdAndStaysOnItsBackend(Vertx vertx) {
    Server a = new Server(vertx, "A");
    Server b = new Server(vertx, "B");
    Dstunnel proxy = config(a, b).set("pool", "strategy", "round-robin").start(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    Answer first = http.get(REST + "/Increment/5", "Authorization", ADMIN);
    assertThat(result(first)).isEqualTo(5);
    String sid = session(first);
    assertThat(sid).as("dstunnel's own id, not the backend's digit groups").hasSizeGreaterThanOrEqualTo(22)
        .doesNotContain(".");
    assertThat(first.headers().get("Pragma")).as("the idle time dstunnel honours (session.idleTimeoutMs), not the "
        + "backend's 1,200,000 ms").contains("dssessionexpires=" + io.dstunnel.config.SessionConfig.DEFAULT_IDLE_TIMEOUT);
    assertThat(result(http.get(REST + "/Increment/5", "Pragma", "dssession=" + sid))).isEqualTo(10);
    assertThat(result(http.get(REST + "/Increment/5?sid=" + sid))).isEqualTo(15);
    assertThat(result(http.get(REST + "/Increment/5?SESSIONID=" + sid))).isEqualTo(20);
    assertThat(session(http.get(REST + "/Increment/0?sid=" + sid))).isEqualTo(sid);
    // Owned by its user.
    assertThat(http.get(REST + "/Increment/1", "Pragma", "dssession=" + sid, "Authorization", basic("eve", "secret"))
        .status()).isEqualTo(403);
    assertThat(http.get(REST + "/Increment/1", "Pragma", "dssession=" + sid, "Authorization", basic("admin", "no"))
        .status()).isEqualTo(401);
    // An id dstunnel never gave: DataSnap's own answer for an expired session.
    Answer unknown = http.get(REST + "/Increment/1", "Pragma", "dssession=1.2.3");
    assertThat(unknown.status()).isEqualTo(403);
    assertThat(unknown.json().getString("SessionExpired")).isNotNull();
    // A new session needs credentials.
    Answer anonymous = http.get(REST + "/EchoString/x");
    assertThat(anonymous.status()).isEqualTo(401);
    assertThat(anonymous.headers().get("WWW-Authenticate")).startsWith("Basic");
  }

  @Test
  void aDeadBackendsSessionLogsInElsewhereUnderTheSameIdAndCloseSessionEndsIt(Vertx vertx) {
    Server a = new Server(vertx, "A");
    Server b = new Server(vertx, "B");
    Dstunnel proxy = config(a, b).start(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    Answer first = http.get(REST + "/Increment/5", "Authorization", ADMIN);
    String sid = session(first);
    assertThat(result(http.get(REST + "/EchoString/before", "Pragma", "dssession=" + sid))).isEqualTo("before (Server A)");
    a.kill();
    // Its next call goes out once the proxy knows A is down (its connections are let go): a request
    // written to a kept-alive connection of A's in the moment of its death is not sent again.
    RawHttp admin = new RawHttp(vertx, proxy.adminPort());
    Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> !admin.get("/admin/backends",
        "Authorization", ADMIN).json().getJsonArray("backends").getJsonObject(0).getBoolean("up"));
    Answer after = http.get(REST + "/EchoString/after", "Pragma", "dssession=" + sid);
    assertThat(result(after)).isEqualTo("after (Server B)");
    assertThat(session(after)).isEqualTo(sid);
    assertThat(result(http.get(REST + "/Increment/1", "Pragma", "dssession=" + sid)))
        .as("a fresh backend session: the dead server's data is gone").isEqualTo(1);
    Answer closed = http.get("/datasnap/rest/CloseSession/", "Pragma", "dssession=" + sid);
    assertThat(result(closed)).isEqualTo(true);
    Answer gone = http.get(REST + "/Increment/1", "Pragma", "dssession=" + sid);
    assertThat(gone.status()).isEqualTo(403);
    assertThat(gone.json().containsKey("SessionExpired")).isTrue();
  }

  @Test
  void aRequestSentThenFailedIs502WithJsonUnlessItsMethodMayRunTwice(Vertx vertx) {
    Server b = new Server(vertx, "B");
    // Reads the request, then closes without a word: the request was sent, then failed.
    NetServer mute = vertx.createNetServer().connectHandler(s -> s.handler(bytes -> s.close()))
        .listen(0, "127.0.0.1").await();
    Proxies p = unwatched(Proxies.config().backend("mute", b.port, 0).backend("b", b.port, 1));
    p.json().getJsonArray("backends").getJsonObject(0).put("httpPort", mute.actualPort());
    p.json().getJsonArray("backends").getJsonObject(1).put("httpPort", b.httpPort);
    p.set("rest", "retryableMethods", new JsonArray().add("TServerMethods1.ReverseString"));
    Dstunnel proxy = p.start(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    Answer failed = http.get(REST + "/EchoString/once", "Authorization", ADMIN);
    assertThat(failed.status()).isEqualTo(502);
    assertThat(failed.error()).contains("after the request was sent");
    assertThat(result(http.get(REST + "/ReverseString/abc", "Authorization", ADMIN))).isEqualTo("cba");
    mute.close().await();
  }

  /**
   * A call running on its backend when the backend dies is answered 502 and runs nowhere else,
   * although it came on a connection kept alive from earlier calls (rest.md item 5). Before, a
   * bodiless request closed unanswered on a reused connection was taken for a stale connection and
   * sent again: the other backend ran it a second time.
   */
  @Test
  void aCallInFlightWhenItsBackendDiesIsAnswered502AndNotRunAgain(Vertx vertx) {
    Server a = new Server(vertx, "A");
    Server b = new Server(vertx, "B");
    Dstunnel proxy = unwatched(config(a, b)).start(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    Answer first = http.get(REST + "/Increment/1", "Authorization", ADMIN);
    String sid = session(first);
    assertThat(result(http.get(REST + "/Increment/1", "Pragma", "dssession=" + sid))).isEqualTo(2);
    var slow = http.sendAsync(HttpMethod.GET, REST + "/SlowEcho/3000/once", null, "Pragma", "dssession=" + sid);
    Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> a.restSide.calls("TServerMethods1.SlowEcho") == 1);
    a.kill();
    Answer answer = slow.await();
    assertThat(answer.status()).as(answer.body().toString()).isEqualTo(502);
    assertThat(answer.error()).contains("after the request was sent");
    assertThat(b.restSide.calls("TServerMethods1.SlowEcho")).as("runs on B").isZero();
    assertThat(result(http.get(REST + "/EchoString/after", "Pragma", "dssession=" + sid))).isEqualTo("after (Server B)");
  }

  /**
   * The session's backend is restarted between two calls and answers 403 SessionExpired to the old
   * backend id: the call is sent again to it with the session's credentials, and the client keeps
   * its id and never sees SessionExpired (rest.md item 4). Before, the 403 reached the client.
   */
  @Test
  void aRestartedBackendsSessionExpiredIsATransparentRelogin(Vertx vertx) {
    Server a = new Server(vertx, "A");
    Dstunnel proxy = unwatched(config(a)).start(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    Answer first = http.get(REST + "/Increment/5", "Authorization", ADMIN);
    String sid = session(first);
    assertThat(result(first)).isEqualTo(5);
    a.restartRest();
    // A call written to a connection of the old process in the moment it closed may fail (502:
    // it is not sent twice); none answers 403, and the next gets a fresh backend session.
    Answer[] after = {null};
    Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> {
      after[0] = http.get(REST + "/Increment/1", "Pragma", "dssession=" + sid);
      assertThat(after[0].status()).as(after[0].body().toString()).isNotEqualTo(403);
      return after[0].status() == 200;
    });
    assertThat(result(after[0])).as("a fresh backend session").isEqualTo(1);
    assertThat(session(after[0])).isEqualTo(sid);
    assertThat(result(http.get(REST + "/Increment/1", "Pragma", "dssession=" + sid))).isEqualTo(2);
    Answer posted = http.send(HttpMethod.POST, REST + "/%22EchoString%22/", Buffer.buffer("{\"_parameters\":[\"x\"]}"),
        "Pragma", "dssession=" + sid, "Content-Type", "application/json");
    a.restartRest();
    Answer[] again = {null};
    Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> {
      again[0] = http.send(HttpMethod.POST, REST + "/%22EchoString%22/", Buffer.buffer("{\"_parameters\":[\"x\"]}"),
          "Pragma", "dssession=" + sid, "Content-Type", "application/json");
      assertThat(again[0].status()).as(again[0].body().toString()).isNotEqualTo(403);
      return again[0].status() < 500;
    });
    assertThat(again[0].status()).as("a POST with a body, after a restart: " + again[0].body()).isEqualTo(posted.status());
  }

  /**
   * Calls of one session at once, each answered 403 SessionExpired by its restarted backend, log
   * the session in once: one waits for the other's login and goes again with its binding, so no
   * call lands in a backend session of its own and every later call sees every earlier one.
   * Before, each call logged in again: three backend sessions, and the session's state split
   * between them (the next call saw one of three totals).
   */
  @Test
  void callsAtOnceAfterABackendRestartLogTheSessionInOnce(Vertx vertx) {
    Server a = new Server(vertx, "A");
    Dstunnel proxy = unwatched(config(a)).start(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    Answer first = http.get(REST + "/Increment/5", "Authorization", ADMIN);
    String sid = session(first);
    assertThat(result(first)).isEqualTo(5);
    a.restartRest();
    List<Future<Answer>> calls = new java.util.ArrayList<>();
    for (int i = 0; i < 3; i++) {
      // A client of its own each: all at once.
      calls.add(new RawHttp(vertx, proxy.port()).sendAsync(HttpMethod.GET, REST + "/Increment/1", null,
          "Pragma", "dssession=" + sid));
    }
    java.util.Set<Object> totals = new java.util.HashSet<>();
    for (Future<Answer> call : calls) {
      Answer answer = call.await();
      // (A call written to a connection of the old process as it closed fails with 502: never run twice.)
      assertThat(answer.status()).as(answer.body().toString()).isIn(200, 502);
      if (answer.status() == 200) {
        assertThat(totals.add(result(answer))).as("each call sees the ones before it: " + totals).isTrue();
      }
    }
    assertThat(a.restSide.sessions()).as("backend sessions on the restarted server").isEqualTo(1);
    assertThat(result(http.get(REST + "/Increment/1", "Pragma", "dssession=" + sid)))
        .as("the next call sees every call that ran").isEqualTo(totals.size() + 1);
  }

  /**
   * REST sessions take places among the proxy's sessions as tunnel sessions do: past
   * {@code session.maxSessions} a new one is refused (503), past {@code maxSessionsPerUser} too
   * (429), with a JSON error; a closed one gives its place back. Before, REST sessions were outside
   * both limits.
   */
  @Test
  void restSessionsCountTowardTheProxysSessionLimits(Vertx vertx) {
    Server a = new Server(vertx, "A");
    Dstunnel proxy = config(a).set("session", "maxSessions", 2).set("session", "maxSessionsPerUser", 1).start(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    String first = session(http.get(REST + "/EchoString/1", "Authorization", ADMIN));
    Answer again = http.get(REST + "/EchoString/2", "Authorization", ADMIN);
    assertThat(again.status()).as("a second session of admin").isEqualTo(429);
    assertThat(again.error()).contains("admin");
    String eves = session(http.get(REST + "/EchoString/3", "Authorization", basic("eve", "secret")));
    assertThat(eves).isNotNull();
    TunnelClient tunnel = new TunnelClient(vertx, "127.0.0.1", proxy.port(), "eve", "secret", 32768);
    assertThatThrownBy(() -> tunnel.handshake().await()).as("a tunnel session past the proxy's two")
        .isInstanceOfSatisfying(TunnelClient.TunnelError.class, e -> assertThat(e.status()).isIn(429, 503));
    assertThat(result(http.get("/datasnap/rest/CloseSession/", "Pragma", "dssession=" + first))).isEqualTo(true);
    assertThat(result(http.get(REST + "/EchoString/4", "Authorization", ADMIN))).isEqualTo("4 (Server A)");
  }

  /**
   * Channel clients are counted once each, and forgotten once nothing has come for them in the
   * session idle time (every page load makes a new ClientId; a closed tab never closes its
   * channel). Before, the gauge read 4 for 2 clients (a poll's token taken for a ClientId) and the
   * maps only shrank on CloseClientChannel.
   */
  @Test
  void abandonedChannelsAreForgottenAfterTheIdleTime(Vertx vertx) {
    Server a = new Server(vertx, "A");
    Dstunnel proxy = config(a).set("session", "idleTimeoutMs", 300).start(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    RawHttp admin = new RawHttp(vertx, proxy.adminPort());
    String[] sids = {register(http, "c1"), register(http, "c2")};
    List<Future<Answer>> polls = List.of(poll(http, "c1", sids[0], "true"), poll(http, "c2", sids[1], "true"));
    Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> a.restSide.calls("DSAdmin.ConsumeClientChannel") == 4);
    assertThat(channelClients(admin)).as("two clients, polling").isEqualTo(2.0);
    for (int i = 3; i <= 40; i++) {
      register(http, "c" + i);  // registered, then abandoned: no poll ever comes
    }
    Awaitility.await().atMost(java.time.Duration.ofSeconds(20)).until(() -> channelClients(admin) == 2.0);
    assertThat(polls).noneMatch(Future::isComplete);
    assertThat(result(http.get("/datasnap/rest/DSAdmin/BroadcastToChannel/news/%22still%22", "Authorization", ADMIN)))
        .isEqualTo(true);
    for (Future<Answer> p : polls) {
      assertThat(broadcastIn(p.await())).as("the clients that poll are kept").isEqualTo("still");
    }
  }

  private static double channelClients(RawHttp admin) {
    return admin.get("/metrics", "Authorization", ADMIN).body().toString().lines()
        .filter(l -> l.startsWith("dstunnel_rest_channel_clients "))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  @Test
  void aBackendThatRefusesTheConnectionGivesWayToTheNext(Vertx vertx) {
    Server a = new Server(vertx, "A");
    Server b = new Server(vertx, "B");
    Dstunnel proxy = unwatched(config(a, b)).start(vertx);
    vertx.undeploy(a.rest).await();  // A's REST port refuses; its TCP side (and health) still fine
    RawHttp http = new RawHttp(vertx, proxy.port());
    assertThat(result(http.get(REST + "/EchoString/x", "Authorization", ADMIN))).isEqualTo("x (Server B)");
  }

  /**
   * The framework POSTs a broadcast of a JSON object with the object in the body: it reaches the
   * consumers on both servers, and the backend sessions the fan-out opened are closed (rest.md item
   * 6). Before, the fan-out sent a bodiless GET (the object was lost) and left a session behind on
   * each server per broadcast.
   */
  @Test
  void aBroadcastOfAnObjectInThePostBodyReachesEveryServerAndLeavesNoSessionBehind(Vertx vertx) {
    Server a = new Server(vertx, "A");
    Server b = new Server(vertx, "B");
    Dstunnel proxy = balanced(a, b).start(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    String[] sids = {register(http, "c1"), register(http, "c2")};
    List<Future<Answer>> polls = List.of(poll(http, "c1", sids[0], "true"), poll(http, "c2", sids[1], "true"));
    int before = a.restSide.sessions() + b.restSide.sessions();
    JsonObject value = new JsonObject().put("n", 1).put("list", new JsonArray().add(1).add("two"));
    Answer sent = http.send(HttpMethod.POST, "/datasnap/rest/DSAdmin/%22BroadcastToChannel%22/news/", value.toBuffer(),
        "Authorization", ADMIN, "Content-Type", "application/json");
    assertThat(result(sent)).isEqualTo(true);
    for (Future<Answer> poll : polls) {
      assertThat(broadcastIn(poll.await())).isEqualTo(value);
    }
    Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
        .until(() -> a.restSide.sessions() + b.restSide.sessions() == before);
  }

  /**
   * A generated REST application loads through dstunnel: its own files pass through to a backend
   * without credentials, and with {@code rest.corsOrigins} a preflight from a listed origin is
   * answered without credentials, one from another origin gets no CORS header (rest.md items 8, 9).
   * Before, both answered 404 or 401.
   */
  @Test
  void theApplicationsOwnFilesPassThroughAndPreflightsNeedNoCredentials(Vertx vertx) {
    Server a = new Server(vertx, "A");
    String origin = "http://app.example";
    Dstunnel proxy = config(a).set("rest", "corsOrigins", new JsonArray().add(origin)).start(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    Answer js = http.get("/js/connection.js");
    assertThat(js.status()).isEqualTo(200);
    assertThat(js.body().toString()).isEqualTo("// connection.js (Server A)\n");
    assertThat(js.headers().get("Content-Type")).contains("javascript");
    Answer preflight = http.send(HttpMethod.OPTIONS, REST + "/EchoString/x/", null, "Origin", origin,
        "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "authorization,pragma,if-modified-since");
    assertThat(preflight.status()).isIn(200, 204);
    assertThat(preflight.headers().get("Access-Control-Allow-Origin")).isEqualTo(origin);
    assertThat(preflight.headers().get("Access-Control-Allow-Headers").toLowerCase())
        .contains("authorization", "pragma", "if-modified-since");
    Answer call = http.get(REST + "/EchoString/x", "Authorization", ADMIN, "Origin", origin);
    assertThat(result(call)).isEqualTo("x (Server A)");
    assertThat(call.headers().get("Access-Control-Allow-Origin")).isEqualTo(origin);
    Answer other = http.send(HttpMethod.OPTIONS, REST + "/EchoString/x/", null, "Origin", "http://else.example",
        "Access-Control-Request-Method", "PUT");
    assertThat(other.headers().get("Access-Control-Allow-Origin")).isNull();
    assertThat(http.get("/not-the-app").status()).as("a path the backend does not serve").isEqualTo(404);
  }

  @Test
  void aBroadcastReachesTheChannelConsumersOnEveryServerOnce(Vertx vertx) {
    Server a = new Server(vertx, "A");
    Server b = new Server(vertx, "B");
    Dstunnel proxy = balanced(a, b).start(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    String[] sids = {register(http, "c1"), register(http, "c2")};
    List<Future<Answer>> next = List.of(poll(http, "c1", sids[0], "true"), poll(http, "c2", sids[1], "true"));
    Answer sent = http.get("/datasnap/rest/DSAdmin/BroadcastToChannel/news/%7B%22n%22%3A1%7D", "Authorization", ADMIN);
    assertThat(result(sent)).isEqualTo(true);
    for (Future<Answer> poll : next) {
      assertThat(broadcastIn(poll.await())).isEqualTo(new JsonObject().put("n", 1));
    }
    assertThat(List.of(result(http.get(REST + "/EchoString/who", "Pragma", "dssession=" + sids[0])),
        result(http.get(REST + "/EchoString/who", "Pragma", "dssession=" + sids[1]))))
        .containsExactlyInAnyOrder("who (Server A)", "who (Server B)");
  }

  /**
   * A burst of broadcasts at once reaches every consumer on every server, each value once: copies
   * to a healthy backend are not dropped for being many (before, past 16 under way to one backend,
   * copies were skipped and their values never reached that backend's clients).
   */
  @Test
  void aBurstOfBroadcastsReachesEveryConsumerOnEveryServer(Vertx vertx) {
    Server a = new Server(vertx, "A");
    Server b = new Server(vertx, "B");
    Dstunnel proxy = balanced(a, b).start(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    String[] sids = {register(http, "c1"), register(http, "c2")};
    int burst = 40;
    List<Future<Answer>> sent = new java.util.ArrayList<>();
    for (int i = 0; i < burst; i++) {
      // A client of its own each: all at once, not a few at a time on one client's pooled connections.
      sent.add(new RawHttp(vertx, proxy.port()).sendAsync(HttpMethod.GET,
          "/datasnap/rest/DSAdmin/BroadcastToChannel/news/" + i, null, "Authorization", ADMIN));
    }
    for (Future<Answer> answer : sent) {
      assertThat(result(answer.await())).isEqualTo(true);
    }
    for (int c = 0; c < 2; c++) {
      java.util.Set<Object> got = new java.util.HashSet<>();
      while (got.size() < burst) {
        Object value = broadcastIn(poll(http, "c" + (c + 1), sids[c], "true").await());
        assertThat(got.add(value)).as("value " + value + " once, to client c" + (c + 1)).isTrue();
      }
    }
  }

  @Test
  void manySessionsKeepTheirBackendAndNoBackendIdEverReachesAClient(Vertx vertx) {
    Server a = new Server(vertx, "A");
    Server b = new Server(vertx, "B");
    Dstunnel proxy = balanced(a, b).start(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    List<String> sids = new java.util.ArrayList<>();
    java.util.Set<Object> servers = new java.util.HashSet<>();
    for (int i = 0; i < 20; i++) {
      Answer first = http.get(REST + "/Increment/1", "Authorization", ADMIN);
      assertThat(result(first)).isEqualTo(1);
      sids.add(session(first));
    }
    for (int round = 2; round <= 3; round++) {
      for (String sid : sids) {
        Answer next = http.get(REST + "/Increment/1", "Pragma", "dssession=" + sid);
        assertThat(result(next)).as("session %s keeps its backend session", sid).isEqualTo(round);
        assertThat(next.headers().get("Pragma")).doesNotContainPattern("\\d+\\.\\d+\\.\\d+");
        assertThat(next.body().toString()).doesNotContainPattern("\\d+\\.\\d+\\.\\d+");
      }
    }
    for (String sid : sids) {
      servers.add(result(http.get(REST + "/EchoString/who", "Pragma", "dssession=" + sid)));
    }
    assertThat(servers).as("balanced over both").containsExactlyInAnyOrder("who (Server A)", "who (Server B)");
    // The operators see them, as kind "rest", and the metrics count them.
    JsonObject listed = new RawHttp(vertx, proxy.adminPort()).get("/admin/sessions?size=1000", "Authorization", ADMIN)
        .json();
    assertThat(listed.getJsonArray("sessions").stream().map(o -> ((JsonObject) o).getString("kind")))
        .containsOnly("rest").hasSize(20);
    assertThat(new RawHttp(vertx, proxy.adminPort()).get("/metrics", "Authorization", ADMIN).body().toString())
        .contains("dstunnel_rest_sessions_open 20.0")
        .containsPattern("dstunnel_tunnel_requests_total\\{kind=\"rest\",status=\"200\"} 80.0");
  }

  @Test
  void aLongPollOutlivesTheIdleTimeouts(Vertx vertx) {
    Server a = new Server(vertx, "A");
    Dstunnel proxy = config(a).set("http", "idleTimeoutMs", 300).set("session", "idleTimeoutMs", 300).start(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    String sid = register(http, "c1");
    Future<Answer> poll = poll(http, "c1", sid, "true");
    // Many idle timeouts long, the long poll is still waiting (neither side cut it).
    Awaitility.await().during(java.time.Duration.ofMillis(1_500)).atMost(java.time.Duration.ofSeconds(10))
        .until(() -> !poll.isComplete());
    Future<Answer> notified = new RawHttp(vertx, a.httpPort).sendAsync(HttpMethod.GET,
        "/datasnap/rest/DSAdmin/NotifyCallback/c1/cb-c1/%22late%22", null);
    JsonArray invoke = result(poll.await()) instanceof JsonObject m ? m.getJsonArray("invoke") : null;
    assertThat(invoke).isEqualTo(new JsonArray().add("cb-c1").add("late").add(0));
    assertThat(session(poll.result())).as("the session outlived its idle timeout while polling").isEqualTo(sid);
    Future<Answer> answering = poll(http, "c1", sid, "%22seen%22");
    assertThat(notified.await().json().getJsonArray("result")).as("NotifyCallback gets the client's answer")
        .isEqualTo(new JsonArray().add("seen").add(true));
    assertThat(answering.isComplete()).isFalse();
    assertThat(result(http.get(REST + "/EchoString/still", "Pragma", "dssession=" + sid))).isEqualTo("still (Server A)");
  }

  @Test
  void restSessionsCountTowardTheirBackendsMaxSessions(Vertx vertx) {
    Server a = new Server(vertx, "A");
    Server b = new Server(vertx, "B");
    Proxies p = config(a, b);
    p.json().getJsonArray("backends").getJsonObject(0).put("maxSessions", 2);
    Dstunnel proxy = p.start(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    String first = session(http.get(REST + "/EchoString/1", "Authorization", ADMIN));
    assertThat(result(http.get(REST + "/EchoString/2", "Authorization", ADMIN))).isEqualTo("2 (Server A)");
    assertThat(result(http.get(REST + "/EchoString/3", "Authorization", ADMIN))).as("A is full").isEqualTo("3 (Server B)");
    assertThat(proxy.pool().byName("a").sessions()).isEqualTo(2);
    assertThat(result(http.get("/datasnap/rest/CloseSession/", "Pragma", "dssession=" + first))).isEqualTo(true);
    assertThat(proxy.pool().byName("a").sessions()).isEqualTo(1);
    assertThat(result(http.get(REST + "/EchoString/4", "Authorization", ADMIN))).isEqualTo("4 (Server A)");
  }

  /**
   * As Embarcadero's framework does: the channel is registered once, then only POST polls naming
   * the ClientId; its backend dies while a poll waits there. The channel is registered again on the
   * other backend with its callbacks, the waiting poll goes on there, and a broadcast to the
   * callback's channel reaches it once, without an error or a new session id (rest.md item 6).
   * Before, the waiting poll answered 502 and the framework's loop stopped for good.
   */
  @Test
  void aChannelWhoseBackendDiedGoesOnWithTheFrameworksPostPolls(Vertx vertx) {
    Server a = new Server(vertx, "A");
    Server b = new Server(vertx, "B");
    Dstunnel proxy = config(a, b).start(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    String sid = register(http, "c1");
    assertThat(result(http.get("/datasnap/rest/DSAdmin/RegisterClientCallbackServer/c1/cb-alerts/alerts/t-c1/",
        "Pragma", "dssession=" + sid))).isEqualTo(true);
    Future<Answer> waiting = poll(http, "c1", sid, "true");
    Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
        .until(() -> a.restSide.calls("DSAdmin.ConsumeClientChannel") == 2);
    a.kill();
    Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
        .until(() -> b.restSide.calls("DSAdmin.RegisterClientCallbackServer") == 1);
    Answer sent = http.get("/datasnap/rest/DSAdmin/BroadcastToChannel/alerts/%22after%22", "Authorization", ADMIN);
    assertThat(result(sent)).isEqualTo(true);
    Answer got = waiting.await();
    assertThat(broadcastIn(got)).isEqualTo("after");
    assertThat(session(got)).as("the client keeps its session id").isEqualTo(sid);
    assertThat(b.restSide.calls("DSAdmin.ConsumeClientChannel")).as("the registration and the poll, on B").isEqualTo(2);
  }

  @Test
  void anHttpHealthCheckWatchesTheRestPort(Vertx vertx) {
    Server a = new Server(vertx, "A");
    Server b = new Server(vertx, "B");
    Dstunnel proxy = config(a, b).set("health", "kind", "http").set("health", "intervalMs", 50)
        .set("health", "fall", 1).start(vertx);
    Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> proxy.pool().byName("a").isUp());
    vertx.undeploy(a.rest).await();  // the REST side dies, the TCP side lives on
    RawHttp admin = new RawHttp(vertx, proxy.adminPort());
    Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> !admin.get("/admin/backends",
        "Authorization", ADMIN).json().getJsonArray("backends").getJsonObject(0).getBoolean("up"));
    assertThat(proxy.pool().byName("b").isUp()).isTrue();
    RawHttp http = new RawHttp(vertx, proxy.port());
    assertThat(result(http.get(REST + "/EchoString/x", "Authorization", ADMIN))).isEqualTo("x (Server B)");
  }

  /** DataSnap's PHP clients: a session opened by PHP's curl survives its server's death. */
  @Test
  void aPhpClientsSessionGoesOnOnTheStandby(Vertx vertx) throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(phpWithCurl() || "true".equals(System.getenv("CI")),
        "php-cli and php-curl are installed by .ci/run");
    Server a = new Server(vertx, "A");
    Server b = new Server(vertx, "B");
    Dstunnel proxy = config(a, b).start(vertx);
    String base = "http://127.0.0.1:" + proxy.port() + REST;
    JsonObject first = phpCall(base + "/EchoString/from%20PHP", "", "admin", "admin");
    assertThat(first.getInteger("status")).isEqualTo(200);
    assertThat(first.getJsonObject("body").getJsonArray("result").getString(0)).isEqualTo("from PHP (Server A)");
    String sid = first.getString("session");
    assertThat(sid).hasSizeGreaterThanOrEqualTo(22);
    a.kill();
    JsonObject after = phpCall(base + "/EchoString/again", sid);
    assertThat(after.getInteger("status")).isEqualTo(200);
    assertThat(after.getJsonObject("body").getJsonArray("result").getString(0)).isEqualTo("again (Server B)");
    assertThat(after.getString("session")).isEqualTo(sid);
  }

  /** Whether php with its curl extension runs here. */
  private static boolean phpWithCurl() {
    try {
      Process p = new ProcessBuilder("php", "-r", "exit(function_exists('curl_init') ? 0 : 1);")
          .redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor() == 0;
    } catch (java.io.IOException | InterruptedException e) {
      return false;
    }
  }

  private static JsonObject phpCall(String... args) throws Exception {
    java.nio.file.Path script = java.nio.file.Path.of("src/test/resources/php/rest_client.php");
    List<String> command = new java.util.ArrayList<>(List.of("php", script.toString()));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as("php exit status, output " + out).isZero();
    return new JsonObject(out);
  }

  /** Broadcasts "probe" on one server directly: whether a channel there took it. */
  /** The framework's first ConsumeClientChannel (channel "news", a callback id): registered at once; the session id. */
  private static String register(RawHttp http, String clientId) {
    Answer a = http.get("/datasnap/rest/DSAdmin/ConsumeClientChannel/news/" + clientId + "/cb-" + clientId + "//t-"
        + clientId + "//", "Authorization", ADMIN);
    assertThat(result(a)).isEqualTo(new JsonObject().put("invoke", new JsonArray().add("cb-" + clientId)
        .add(new JsonObject().put("created", true)).add(0)));
    return session(a);
  }

  /** The framework's poll: a POST naming the ClientId alone, with its answer to the last message. */
  private static Future<Answer> poll(RawHttp http, String clientId, String sid, String responseData) {
    return http.sendAsync(HttpMethod.POST, "/datasnap/rest/DSAdmin/ConsumeClientChannel//" + clientId + "///t-" + clientId
        + "/" + responseData + "/", Buffer.buffer(), "Pragma", "dssession=" + sid, "Authorization", ADMIN);
  }

  /** The value of the broadcast message a poll was answered with. */
  private static Object broadcastIn(Answer poll) {
    Object message = result(poll);
    assertThat(message).as("a message: " + poll.body()).isInstanceOf(JsonObject.class);
    return ((JsonObject) message).getJsonArray("broadcast").getValue(0);
  }
}
