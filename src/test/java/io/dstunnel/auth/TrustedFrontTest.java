// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dstunnel.Dstunnel;
import io.dstunnel.config.ConfigException;
import io.dstunnel.config.ProxyConfig;
import io.dstunnel.config.TrustedFronts;
import io.dstunnel.demo.TunnelClient;
import io.dstunnel.support.Backends;
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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Behind a front (HAProxy, an L7 balancer) every connection comes from the front's address. The
 * real client is taken from {@code X-Forwarded-For}, {@code Forwarded} or the PROXY protocol, and
 * only when the TCP peer is a trusted front: the login throttle and the audit trail then know each
 * client apart, so one client's wrong passwords lock out neither another client nor the operators.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TrustedFrontTest {

  private static final String T = "/datasnap/tunnel?dss=0&c=5";
  private static final String ADMIN = RawHttp.basic("admin", "admin");
  private static final String WRONG = RawHttp.basic("admin", "guess");

  private static Proxies behind(Vertx vertx, String trusted) {
    JsonArray fronts = new JsonArray().add(trusted);
    return Proxies.config().backend("a", Backends.start(vertx, "A").port(), 0)
        .set("http", "trustedProxies", fronts).set("admin", "trustedProxies", fronts.copy());
  }

  @Test
  void tenBadLoginsOfOneClientBehindATrustedFrontLockOutNeitherAnotherClientNorTheAdmin(Vertx vertx) {
    Dstunnel proxy = behind(vertx, "127.0.0.0/8").start(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    for (int i = 0; i < 10; i++) {
      // The client forged 10.0.0.2 (the victim's address); the front appended the real one.
      assertThat(http.put(T, TunnelClient.FILTER_QUERY, "Authorization", WRONG,
          "X-Forwarded-For", "10.0.0.2, 10.0.0.1").status()).isEqualTo(401);
    }
    // The guessing client is locked out, even with the right password...
    assertThat(http.put(T, TunnelClient.FILTER_QUERY, "Authorization", ADMIN, "X-Forwarded-For", "10.0.0.1")
        .status()).isEqualTo(429);
    // ...another client behind the same front is not, and neither is the one it tried to frame.
    assertThat(http.put(T, TunnelClient.FILTER_QUERY, "Authorization", ADMIN, "X-Forwarded-For", "10.0.0.2")
        .status()).isEqualTo(200);
    assertThat(http.put(T, TunnelClient.FILTER_QUERY, "Authorization", ADMIN, "X-Forwarded-For", "10.0.0.3")
        .status()).isEqualTo(200);
    // The operators: straight to the admin listener, and through the front.
    RawHttp admin = new RawHttp(vertx, proxy.adminPort());
    assertThat(admin.get("/admin/backends", "Authorization", ADMIN).status()).isEqualTo(200);
    assertThat(admin.get("/admin/backends", "Authorization", ADMIN, "X-Forwarded-For", "10.0.0.4").status())
        .isEqualTo(200);
    // The audit trail names the client behind the front.
    admin.send(HttpMethod.POST, "/admin/backends/nobody/disable", Buffer.buffer(), "Authorization", ADMIN,
        "X-Forwarded-For", "10.0.0.4");
    assertThat(lastAudit(admin).getString("from")).isEqualTo("10.0.0.4");
  }

  @Test
  void theForwardedHeaderIsReadWhenTheFrontSendsThatOne(Vertx vertx) {
    Dstunnel proxy = behind(vertx, "127.0.0.1").set("http", "forwardedHeader", "Forwarded")
        .set("auth", "maxFailures", 3).start(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    for (int i = 0; i < 3; i++) {
      assertThat(http.put(T, TunnelClient.FILTER_QUERY, "Authorization", WRONG,
          "Forwarded", "for=10.0.0.2, for=\"[2001:db8::1]:4711\";proto=http").status()).isEqualTo(401);
    }
    assertThat(http.put(T, TunnelClient.FILTER_QUERY, "Authorization", ADMIN,
        "Forwarded", "for=\"[2001:db8::1]\"").status()).isEqualTo(429);
    // With Forwarded chosen, an X-Forwarded-For (which this front does not set) is the client's own word.
    assertThat(http.put(T, TunnelClient.FILTER_QUERY, "Authorization", ADMIN,
        "Forwarded", "for=\"[2001:db8::1]\"", "X-Forwarded-For", "10.0.0.9").status()).isEqualTo(429);
    assertThat(http.put(T, TunnelClient.FILTER_QUERY, "Authorization", ADMIN, "Forwarded", "for=10.0.0.2")
        .status()).isEqualTo(200);
  }

  @Test
  void aForwardedForFromAPeerThatIsNoTrustedFrontIsIgnored(Vertx vertx) {
    Dstunnel proxy = behind(vertx, "10.9.9.9").set("auth", "maxFailures", 3).start(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    for (int i = 0; i < 3; i++) {
      assertThat(http.put(T, TunnelClient.FILTER_QUERY, "Authorization", WRONG, "X-Forwarded-For", "10.0.0." + i)
          .status()).isEqualTo(401);
    }
    // 127.0.0.1 is no front: it is locked out whatever address it claims.
    assertThat(http.put(T, TunnelClient.FILTER_QUERY, "Authorization", ADMIN, "X-Forwarded-For", "10.0.0.200")
        .status()).isEqualTo(429);
    RawHttp admin = new RawHttp(vertx, proxy.adminPort());
    assertThat(admin.get("/admin/backends", "Authorization", ADMIN, "X-Forwarded-For", "10.0.0.201").status())
        .isEqualTo(429);
  }

  @Test
  void theProxyProtocolGivesTheClientToTheThrottleAndTheAuditTrail(Vertx vertx) {
    Dstunnel proxy = behind(vertx, "127.0.0.1").set("http", "proxyProtocol", true)
        .set("admin", "proxyProtocol", true).set("auth", "maxFailures", 3).start(vertx);
    for (int i = 0; i < 3; i++) {
      assertThat(viaProxyProtocol(vertx, proxy.port(), "10.0.0.7", tunnelOpen(WRONG)).await())
          .startsWith("HTTP/1.1 401");
    }
    assertThat(viaProxyProtocol(vertx, proxy.port(), "10.0.0.7", tunnelOpen(ADMIN)).await())
        .startsWith("HTTP/1.1 429");
    assertThat(viaProxyProtocol(vertx, proxy.port(), "10.0.0.8", tunnelOpen(ADMIN)).await())
        .startsWith("HTTP/1.1 200");

    // 10.0.0.7 is locked out of the admin listener too (one throttle); an operator elsewhere is not.
    assertThat(viaProxyProtocol(vertx, proxy.adminPort(), "10.0.0.7", "GET /admin/backends HTTP/1.1\r\n"
        + "Host: 127.0.0.1\r\nAuthorization: " + ADMIN + "\r\nConnection: close\r\n\r\n").await())
        .startsWith("HTTP/1.1 429");
    assertThat(viaProxyProtocol(vertx, proxy.adminPort(), "10.0.0.9", "POST /admin/backends/nobody/disable HTTP/1.1\r\n"
        + "Host: 127.0.0.1\r\nAuthorization: " + ADMIN + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await())
        .startsWith("HTTP/1.1 404");
    String events = viaProxyProtocol(vertx, proxy.adminPort(), "10.0.0.8", "GET /admin/events HTTP/1.1\r\n"
        + "Host: 127.0.0.1\r\nAuthorization: " + ADMIN + "\r\nConnection: close\r\n\r\n").await();
    JsonArray audit = new JsonObject(events.substring(events.indexOf("\r\n\r\n") + 4)).getJsonArray("audit");
    assertThat(audit.getJsonObject(audit.size() - 1).getString("from")).isEqualTo("10.0.0.9");
  }

  @Test
  void aProxyProtocolHeaderFromAnUntrustedPeerIsIgnored(Vertx vertx) {
    Dstunnel proxy = behind(vertx, "10.9.9.9").set("admin", "proxyProtocol", true).start(vertx);
    viaProxyProtocol(vertx, proxy.adminPort(), "10.0.0.7", "POST /admin/backends/nobody/disable HTTP/1.1\r\n"
        + "Host: 127.0.0.1\r\nAuthorization: " + ADMIN + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await();
    String events = viaProxyProtocol(vertx, proxy.adminPort(), "10.0.0.8", "GET /admin/events HTTP/1.1\r\n"
        + "Host: 127.0.0.1\r\nAuthorization: " + ADMIN + "\r\nConnection: close\r\n\r\n").await();
    JsonArray audit = new JsonObject(events.substring(events.indexOf("\r\n\r\n") + 4)).getJsonArray("audit");
    assertThat(audit.getJsonObject(audit.size() - 1).getString("from")).isEqualTo("127.0.0.1");
  }

  @Test
  void frontsAreIpsOrCidrsAndHeaderEntriesAreIpLiteralsOnly() {
    JsonObject http = new JsonObject().put("trustedProxies", new JsonArray().add("10.0.0.0/8").add("fd00::/8")
        .add("192.168.1.10"));
    TrustedFronts fronts = ProxyConfig.fromJson(Proxies.config().backend("a", 1, 0).json().put("http", http)).http()
        .fronts();
    assertThat(fronts.trusts("10.200.3.4")).isTrue();
    assertThat(fronts.trusts("11.0.0.1")).isFalse();
    assertThat(fronts.trusts("fd12::1")).isTrue();
    assertThat(fronts.trusts("::ffff:192.168.1.10")).isTrue();
    assertThat(fronts.trusts("192.168.1.11")).isFalse();
    assertThat(fronts.trusts("front.example")).isFalse();
    assertThatThrownBy(() -> ProxyConfig.fromJson(Proxies.config().backend("a", 1, 0).json()
        .put("admin", new JsonObject().put("trustedProxies", new JsonArray().add("10.0.0.0/33")))))
        .isInstanceOf(ConfigException.class).hasMessageStartingWith("admin.trustedProxies[0]");
    assertThatThrownBy(() -> ProxyConfig.fromJson(Proxies.config().backend("a", 1, 0).json()
        .put("http", new JsonObject().put("forwardedHeader", "X-Real-IP"))))
        .isInstanceOf(ConfigException.class).hasMessageStartingWith("http.forwardedHeader");
    assertThat(ClientAddress.literal(" 10.0.0.1:4711")).isEqualTo("10.0.0.1");
    assertThat(ClientAddress.literal("\"[2001:db8::1]:80\"")).isEqualTo("2001:db8:0:0:0:0:0:1");
    assertThat(ClientAddress.literal("unknown")).isNull();
    assertThat(ClientAddress.literal("_hidden")).isNull();
    assertThat(ClientAddress.literal("a:b:c")).isNull();
  }

  private static String tunnelOpen(String authorization) {
    return "PUT " + T + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + authorization
        + "\r\nContent-Length: 5\r\nConnection: close\r\n\r\n" + TunnelClient.FILTER_QUERY;
  }

  /** One request over a raw connection that starts as a front's would: a PROXY v1 line naming {@code client}. */
  private static Future<String> viaProxyProtocol(Vertx vertx, int port, String client, String request) {
    Promise<String> answer = Promise.promise();
    Sockets.connect(vertx, port).onComplete(ar -> {
      if (ar.failed()) {
        answer.fail(ar.cause());
        return;
      }
      NetSocket socket = ar.result();
      Buffer received = Buffer.buffer();
      socket.handler(received::appendBuffer);
      socket.closeHandler(v -> answer.tryComplete(received.toString("ISO-8859-1")));
      socket.write("PROXY TCP4 " + client + " 127.0.0.1 5555 " + port + "\r\n" + request, "ISO-8859-1");
    });
    return answer.future();
  }

  private static JsonObject lastAudit(RawHttp admin) {
    JsonArray audit = admin.get("/admin/events", "Authorization", ADMIN).json().getJsonArray("audit");
    return audit.getJsonObject(audit.size() - 1);
  }
}
