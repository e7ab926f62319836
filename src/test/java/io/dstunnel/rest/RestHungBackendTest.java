// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.rest;

import static io.dstunnel.support.RawHttp.basic;
import static org.assertj.core.api.Assertions.assertThat;

import io.dstunnel.Dstunnel;
import io.dstunnel.config.BackendMode;
import io.dstunnel.demo.DemoRestVerticle;
import io.dstunnel.demo.DemoServerVerticle;
import io.dstunnel.support.HungHttp;
import io.dstunnel.support.Proxies;
import io.dstunnel.support.RawHttp;
import io.dstunnel.support.RawHttp.Answer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.net.NetServer;
import io.vertx.junit5.VertxExtension;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A REST backend that hangs (its port accepts and reads, its server answers nothing, its TCP
 * health check passes) costs the broadcasts fanned out to it one timeout, not one each, and gets
 * nothing it could run once it wakes (rest.md item 6, issue 23 item 6).
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RestHungBackendTest {

  private static final String ADMIN = basic("admin", "admin");
  private static final String BROADCAST = "/datasnap/rest/DSAdmin/BroadcastToChannel/";
  private static final long TIMEOUT_MS = 1000;

  /**
   * Client h's channel is on the hung server (listening to "news" and "lonely"), client a's on the
   * demo server ("news"). A broadcast to "lonely" is answered {@code [false]} once its copy timed
   * out, and that copy's connection is closed, so the server never runs it; broadcasts to "news"
   * then skip the hung server (the demo server takes them), so its connections stay few; once it
   * answers again, broadcasts reach it again. Before, the first broadcast was never answered: the
   * copy to the hung server waited with no time limit, on a connection nothing closed.
   */
  @Test
  void aHungBackendCostsOneBroadcastItsTimeoutAndGetsNothingToRunWhenItWakes(Vertx vertx) {
    DemoServerVerticle aTcp = new DemoServerVerticle("127.0.0.1", 0, "A");
    vertx.deployVerticle(aTcp).await();
    DemoRestVerticle a = new DemoRestVerticle("127.0.0.1", 0, "A");
    vertx.deployVerticle(a).await();
    HungHttp hung = HungHttp.start(vertx);
    // The hung server's DBX port still accepts connections: a TCP health check keeps it up.
    NetServer hungTcp = vertx.createNetServer().connectHandler(s -> { }).listen(0, "127.0.0.1").await();
    Proxies config = Proxies.config().backend("a", aTcp.actualPort(), 0).backend("h", hungTcp.actualPort(), 0)
        .set("pool", "answerTimeoutMs", TIMEOUT_MS);
    JsonArray backends = config.json().getJsonArray("backends");
    backends.getJsonObject(0).put("httpPort", a.actualPort());
    backends.getJsonObject(1).put("httpPort", hung.port());
    Dstunnel proxy = config.start(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    RawHttp admin = new RawHttp(vertx, proxy.adminPort());

    proxy.pool().mode("a", BackendMode.DRAIN);
    Future<Answer> hungRegistration = http.sendAsync(io.vertx.core.http.HttpMethod.GET,
        "/datasnap/rest/DSAdmin/ConsumeClientChannel/news/h/cb-h/lonely/t-h//", null, "Authorization", ADMIN);
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> hung.requests("ConsumeClientChannel") == 1);
    proxy.pool().mode("a", BackendMode.ACTIVE);
    proxy.pool().mode("h", BackendMode.DRAIN);
    Answer registered = http.get("/datasnap/rest/DSAdmin/ConsumeClientChannel/news/a/cb-a//t-a//", "Authorization", ADMIN);
    assertThat(registered.status()).as(registered.body().toString()).isEqualTo(200);
    proxy.pool().mode("h", BackendMode.ACTIVE);

    Answer lonely = http.get(BROADCAST + "lonely/%22v0%22", "Authorization", ADMIN);
    assertThat(lonely.json().getJsonArray("result").getValue(0)).as("no server took it").isEqualTo(false);
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> hung.abandoned("BroadcastToChannel") == 1);
    assertThat(metric(admin, "dstunnel_broadcast_timeouts_total")).isEqualTo(1.0);

    for (int i = 1; i <= 5; i++) {
      Answer news = http.get(BROADCAST + "news/%22v" + i + "%22", "Authorization", ADMIN);
      assertThat(news.json().getJsonArray("result").getValue(0)).as("the demo server took it").isEqualTo(true);
    }
    assertThat(a.calls("DSAdmin.BroadcastToChannel")).isEqualTo(5);
    assertThat(hung.requests("BroadcastToChannel")).as("no further copy waits on the hung server").isEqualTo(1);
    assertThat(hung.open()).as("its registration, and at most one probe").isLessThanOrEqualTo(2);
    assertThat(metric(admin, "dstunnel_broadcast_timeouts_total")).isEqualTo(1.0);
    assertThat(metric(admin, "dstunnel_broadcast_skipped_total")).isEqualTo(5.0);

    assertThat(metric(admin, "dstunnel_broadcast_backend_hung")).isEqualTo(1.0);
    assertThat(hung.wake("BroadcastToChannel")).as("broadcasts the woken server runs late").isZero();
    assertThat(hungRegistration.await().status()).isEqualTo(200);
    // Probed now and then while hung: once it answers, the next broadcast reaches it (none is
    // skipped to find out).
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> metric(admin, "dstunnel_broadcast_backend_hung") == 0);
    Answer again = http.get(BROADCAST + "news/%22again%22", "Authorization", ADMIN);
    assertThat(again.json().getJsonArray("result").getValue(0)).isEqualTo(true);
    assertThat(hung.requests("BroadcastToChannel")).isEqualTo(2);
    assertThat(metric(admin, "dstunnel_broadcast_skipped_total")).as("none skipped after it answered").isEqualTo(5.0);
    assertThat(hung.abandoned("BroadcastToChannel")).isEqualTo(1);
    hung.close();
  }

  private static double metric(RawHttp admin, String name) {
    return admin.get("/metrics", "Authorization", ADMIN).body().toString().lines()
        .filter(l -> l.startsWith(name + "{") || l.startsWith(name + " "))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }
}
