// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.config;

import io.dstunnel.framing.Framing;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The whole proxy configuration, parsed and validated once at start-up (cli-and-config.md).
 * Every key but {@code backends} has a default; see src/site/markdown/configuration.md.
 */
public record ProxyConfig(
    HttpConfig http,
    List<BackendConfig> backends,
    AuthConfig auth,
    SessionConfig session,
    PoolConfig pool,
    HealthConfig health,
    AdminConfig admin,
    ClusterConfig cluster,
    RestConfig rest,
    LogConfig log) {

  private static final Set<String> TOP_KEYS = Set.of("http", "backends", "auth", "session", "pool", "health",
      "admin", "cluster", "rest", "log");

  /** The embedded default: port 8080, primary 127.0.0.1:211, standby 127.0.0.1:213, no auth. */
  public static JsonObject defaultJson() {
    return new JsonObject()
        .put("http", new JsonObject().put("port", HttpConfig.DEFAULT_PORT))
        .put("backends", new JsonArray()
            .add(new JsonObject().put("name", "server-211").put("host", "127.0.0.1").put("port", 211).put("priority", 0))
            .add(new JsonObject().put("name", "server-213").put("host", "127.0.0.1").put("port", 213).put("priority", 1)));
  }

  /** Parses the config text; a syntax error is reported as a {@link ConfigException}. */
  public static ProxyConfig parse(String text) {
    return parse(text, Map.of());
  }

  /** As {@link #parse(String)}, with the per-pod environment variables over the file's values. */
  public static ProxyConfig parse(String text, Map<String, String> env) {
    JsonObject json;
    try {
      json = new JsonObject(text);
    } catch (DecodeException | ClassCastException e) {
      throw syntaxError(e);
    }
    return fromJson(EnvironmentOverrides.apply(json, env));
  }

  private static final java.util.regex.Pattern WHERE = java.util.regex.Pattern.compile("line: (\\d+), column: (\\d+)");

  /**
   * A file that is no JSON object, said with where the parser stopped and never what it read
   * there: the parser's own message quotes the text (a key left unquoted, {@code cluster.secret}
   * or a password, would be printed).
   */
  public static ConfigException syntaxError(Throwable e) {
    String m = e.getMessage() == null ? "" : e.getMessage();
    java.util.regex.Matcher where = WHERE.matcher(m);
    return new ConfigException("(file)", "not a valid JSON object"
        + (where.find() ? " (line " + where.group(1) + ", column " + where.group(2) + ")" : ""));
  }

  /** Validates and converts a JSON config. */
  public static ProxyConfig fromJson(JsonObject json) {
    JsonSection top = JsonSection.of("", json, TOP_KEYS);
    HttpConfig http = HttpConfig.fromJson(top.raw("http"));
    HealthConfig health = HealthConfig.fromJson("health", top.raw("health"), HealthConfig.DEFAULTS);
    List<BackendConfig> backends = backends(top, health);
    AuthConfig auth = AuthConfig.fromJson(top.raw("auth"));
    SessionConfig session = SessionConfig.fromJson(top.raw("session"));
    PoolConfig pool = PoolConfig.fromJson(top.raw("pool"));
    AdminConfig admin = AdminConfig.fromJson(top.raw("admin"));
    ClusterConfig cluster = ClusterConfig.fromJson(top.raw("cluster"));
    RestConfig rest = RestConfig.fromJson(top.raw("rest"));
    LogConfig log = LogConfig.fromJson(top.raw("log"));
    return new ProxyConfig(http, backends, auth, session, pool, health, admin, cluster, rest, log);
  }

  private static List<BackendConfig> backends(JsonSection top, HealthConfig health) {
    JsonArray array = top.array("backends");
    if (array == null || array.isEmpty()) {
      throw new ConfigException("backends", "at least one backend is required");
    }
    List<BackendConfig> list = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (int i = 0; i < array.size(); i++) {
      BackendConfig b = BackendConfig.fromJson("backends[" + i + "]", array.getValue(i), health);
      if (!names.add(b.name())) {
        throw new ConfigException("backends[" + i + "].name", "duplicate backend name \"" + b.name() + "\"");
      }
      list.add(b);
    }
    return List.copyOf(list);
  }
}
