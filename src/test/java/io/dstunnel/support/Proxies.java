// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.support;

import io.dstunnel.Dstunnel;
import io.dstunnel.config.ProxyConfig;
import io.dstunnel.demo.TunnelClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** Builds a proxy config for tests: loopback, an ephemeral port, user admin/admin (roles tunnel and admin), eve/secret (tunnel), fast checks. */
public final class Proxies {

  private final JsonObject json = new JsonObject()
      .put("http", new JsonObject().put("host", "127.0.0.1").put("port", 0).put("instances", 2))
      .put("backends", new JsonArray())
      .put("auth", new JsonObject().put("users", new JsonArray()
          .add(new JsonObject().put("name", "admin").put("password", "admin")
              .put("roles", new JsonArray().add("tunnel").add("admin")))
          .add(new JsonObject().put("name", "eve").put("password", "secret"))))
      .put("session", new JsonObject().put("instances", 2))
      .put("admin", new JsonObject().put("port", 0))
      .put("health", new JsonObject().put("intervalMs", 200).put("timeoutMs", 500));

  public static Proxies config() {
    return new Proxies();
  }

  /** Preferred backend "a" (priority 0) and standby "b" (1), checked every 50 ms, down on one failure. */
  public static Proxies twoTier(int a, int b) {
    return config().backend("a", a, 0).backend("b", b, 1)
        .set("health", "intervalMs", 50).set("health", "rise", 2).set("health", "fall", 1);
  }

  public Proxies backend(String name, int port, int priority) {
    json.getJsonArray("backends").add(new JsonObject().put("name", name).put("host", "127.0.0.1")
        .put("port", port).put("priority", priority));
    return this;
  }

  public Proxies set(String section, String key, Object value) {
    JsonObject s = json.getJsonObject(section);
    if (s == null) {
      s = new JsonObject();
      json.put(section, s);
    }
    s.put(key, value);
    return this;
  }

  public Proxies noAuth() {
    json.remove("auth");
    return this;
  }

  public JsonObject json() {
    return json;
  }

  public Dstunnel start(Vertx vertx) {
    return Dstunnel.start(vertx, ProxyConfig.fromJson(json)).await();
  }

  /** A tunnel client for user admin. */
  public static TunnelClient client(Vertx vertx, Dstunnel proxy) {
    return client(vertx, proxy, 32768);
  }

  public static TunnelClient client(Vertx vertx, Dstunnel proxy, int readSize) {
    return new TunnelClient(vertx, "127.0.0.1", proxy.port(), "admin", "admin", readSize);
  }
}
