// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.config;

import io.vertx.core.json.JsonObject;

/**
 * Per-pod values from the environment, over the config file's, so that one ConfigMap serves every
 * pod: {@code DSTUNNEL_CLUSTER_HOST}, {@code DSTUNNEL_CLUSTER_PORT},
 * {@code DSTUNNEL_CLUSTER_EVENT_BUS_PORT}, {@code DSTUNNEL_HTTP_PORT}, {@code DSTUNNEL_ADMIN_PORT}, {@code DSTUNNEL_LOG_FORMAT},
 * {@code DSTUNNEL_AUTH_USERS} (a JSON array like {@code auth.users}, from a Secret) and
 * {@code DSTUNNEL_CLUSTER_SECRET} ({@code cluster.secret}, from a Secret).
 */
public final class EnvironmentOverrides {

  private EnvironmentOverrides() {
  }

  /** {@code json} with the environment's values over the file's. */
  public static JsonObject apply(JsonObject json, java.util.Map<String, String> env) {
    JsonObject out = json.copy();
    String users = env.get("DSTUNNEL_AUTH_USERS");
    if (users != null && !users.isBlank()) {
      try {
        JsonObject auth = out.getValue("auth") instanceof JsonObject a ? a : new JsonObject();
        out.put("auth", auth.put("users", new io.vertx.core.json.JsonArray(users)));
      } catch (RuntimeException e) {
        throw new ConfigException("DSTUNNEL_AUTH_USERS", "must be a JSON array of users");
      }
    }
    override(out, env, "DSTUNNEL_CLUSTER_HOST", "cluster", "host", false);
    override(out, env, "DSTUNNEL_CLUSTER_PORT", "cluster", "port", true);
    override(out, env, "DSTUNNEL_CLUSTER_EVENT_BUS_PORT", "cluster", "eventBusPort", true);
    override(out, env, "DSTUNNEL_CLUSTER_SECRET", "cluster", "secret", false);
    override(out, env, "DSTUNNEL_HTTP_PORT", "http", "port", true);
    override(out, env, "DSTUNNEL_ADMIN_PORT", "admin", "port", true);
    override(out, env, "DSTUNNEL_LOG_FORMAT", "log", "format", false);
    if (out.getValue("log") instanceof JsonObject log && env.get("DSTUNNEL_LOG_FORMAT") != null
        && log.getValue("format") instanceof String f) {
      // TEXT and JSON, as the JVM property is spelled, are accepted too.
      log.put("format", f.toLowerCase(java.util.Locale.ROOT));
    }
    return out;
  }

  private static void override(JsonObject json, java.util.Map<String, String> env, String variable, String section,
                               String key, boolean number) {
    String value = env.get(variable);
    if (value == null || value.isBlank()) {
      return;
    }
    Object v = value.trim();
    if (number) {
      try {
        v = Integer.parseInt(value.trim());
      } catch (NumberFormatException e) {
        throw new ConfigException(variable, "must be a number, got " + value);
      }
    }
    JsonObject s = json.getValue(section) instanceof JsonObject o ? o : new JsonObject();
    json.put(section, s.put(key, v));
  }
}
