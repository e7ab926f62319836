// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.hardening;

import static org.assertj.core.api.Assertions.assertThat;

import io.dstunnel.Dstunnel;
import io.dstunnel.auth.Passwords;
import io.dstunnel.demo.TunnelClient;
import io.dstunnel.support.Backends;
import io.dstunnel.support.Backends.Server;
import io.dstunnel.support.Proxies;
import io.dstunnel.support.RawHttp;
import io.dstunnel.support.Sockets;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetSocket;
import io.vertx.junit5.VertxExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** Requests refused before their body, and logins that cannot be used to burn CPU. */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EarlyRefusalTest {

  private static final String T = "/datasnap/tunnel";

  /** Sends the head of a request over raw TCP and collects what comes back. */
  private static final class RawClient {
    final NetSocket socket;
    final Buffer received = Buffer.buffer();
    Promise<String> waiting;
    String needle;

    RawClient(Vertx vertx, int port) {
      socket = Sockets.connect(vertx, port).await();
      socket.handler(chunk -> {
        synchronized (this) {
          received.appendBuffer(chunk);
          if (waiting != null && received.toString().contains(needle)) {
            waiting.tryComplete(received.toString());
          }
        }
      });
    }

    synchronized Future<String> until(String text) {
      needle = text;
      waiting = Promise.promise();
      if (received.toString().contains(text)) {
        waiting.tryComplete(received.toString());
      }
      return waiting.future();
    }
  }

  private static String head(String uri, String authorization, int length) {
    return "PUT " + uri + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + authorization
        + "\r\nContent-Length: " + length + "\r\nExpect: 100-continue\r\n\r\n";
  }

  @Test
  void expectContinueIsAnsweredAfterTheChecksAndRefusalsComeBeforeTheBody(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Dstunnel proxy = Proxies.config().backend("a", a.port(), 0).start(vertx);

    RawClient good = new RawClient(vertx, proxy.port());
    good.socket.write(head(T + "?dss=0&c=5", RawHttp.basic("admin", "admin"), 5));
    assertThat(good.until("100 Continue").await()).startsWith("HTTP/1.1 100 Continue");
    good.socket.write(TunnelClient.FILTER_QUERY);
    assertThat(good.until("\"response\"").await()).contains("HTTP/1.1 200");

    RawClient wrong = new RawClient(vertx, proxy.port());
    wrong.socket.write(head(T + "?dss=0&c=5", RawHttp.basic("admin", "nope"), 5));
    String refused = wrong.until("Authentication failed\"}").await();
    assertThat(refused).startsWith("HTTP/1.1 401").doesNotContain("100 Continue");

    RawClient big = new RawClient(vertx, proxy.port());
    big.socket.write(head(T + "?dss=0", RawHttp.basic("admin", "admin"), 2 << 20));
    assertThat(big.until("bytes\"}").await()).startsWith("HTTP/1.1 413").doesNotContain("100 Continue");
  }

  @Test
  void aBurstOfBadLoginsRunsNoMoreHashesThanTheLimitAndTheAdminListenerIsThrottledToo(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Dstunnel proxy = Proxies.config().backend("a", a.port(), 0)
        .set("auth", "users", new JsonArray().add(new JsonObject().put("name", "op")
            .put("passwordHash", Passwords.hash("right"))))
        .set("auth", "maxFailures", 3).start(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    List<Future<RawHttp.Answer>> burst = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      burst.add(http.sendAsync(HttpMethod.PUT, T + "?dss=0&c=5", TunnelClient.FILTER_QUERY,
          "Authorization", RawHttp.basic("op", "wrong" + i)));
    }
    Future.join(burst).await();
    long checked = burst.stream().filter(f -> f.result().status() == 401).count();
    // 429: locked out before any check; 503: more checks under way than the process runs at once.
    long throttled = burst.stream().filter(f -> f.result().status() == 429 || f.result().status() == 503).count();
    assertThat(checked).as("logins whose hash was checked").isLessThanOrEqualTo(3);
    assertThat(checked + throttled).as("statuses %s", burst.stream().map(f -> f.result().status()).toList()).isEqualTo(30);
    RawHttp.Answer refused = burst.stream().map(Future::result).filter(r -> r.status() != 401).findFirst().orElseThrow();
    assertThat(Long.parseLong(refused.headers().get("Retry-After"))).isPositive();

    // One at a time, wrong passwords reach the lock-out within the limit.
    RawHttp.Answer last = null;
    for (int i = 0; i < 3 && (last == null || last.status() != 429); i++) {
      last = http.put(T + "?dss=0&c=5", TunnelClient.FILTER_QUERY, "Authorization", RawHttp.basic("op", "bad"));
    }
    assertThat(last.status()).isEqualTo(429);
    assertThat(Long.parseLong(last.headers().get("Retry-After"))).isPositive();

    // The same address is locked out of the admin listener: it shares the throttle.
    RawHttp admin = new RawHttp(vertx, proxy.adminPort());
    assertThat(admin.get("/admin/backends", "Authorization", RawHttp.basic("op", "right")).status()).isEqualTo(429);
  }

  @Test
  void retryAfterIsSentForLockOutsOnlyNeverReadOutOfAUserName(Vertx vertx) {
    Server a = Backends.start(vertx, "A");
    Dstunnel proxy = Proxies.config().backend("a", a.port(), 0)
        .set("auth", "users", new JsonArray().add(new JsonObject().put("name", "bob42").put("password", "pw")))
        .set("session", "maxSessionsPerUser", 1).start(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    String bob = RawHttp.basic("bob42", "pw");
    assertThat(http.put(T + "?dss=0&c=5", TunnelClient.FILTER_QUERY, "Authorization", bob).status()).isEqualTo(200);
    RawHttp.Answer second = http.put(T + "?dss=0&c=5", TunnelClient.FILTER_QUERY, "Authorization", bob);
    assertThat(second.status()).isEqualTo(429);
    assertThat(second.headers().get("Retry-After")).isNull();
  }
}
