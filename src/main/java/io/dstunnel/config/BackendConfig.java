// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.config;

import java.util.Set;

/**
 * A DataSnap-style TCP server the proxy may send sessions to.
 *
 * @param weight share of new sessions relative to the other backends of its priority ("weighted")
 * @param maxSessions sessions it may hold at once, 0 for no limit
 * @param mode "active", or an operator's "drain", "migrate" or "disable"
 * @param health its health check: the global {@code health} section with this backend's overrides
 * @param httpPort its DataSnap REST port on the same host, 0 when it serves no REST
 */
public record BackendConfig(String name, String host, int port, int priority, int weight, int maxSessions,
                            BackendMode mode, HealthConfig health, int httpPort) {
  static BackendConfig fromJson(String path, Object value, HealthConfig defaults) {
    JsonSection s = JsonSection.of(path, value,
        Set.of("name", "host", "port", "priority", "weight", "maxSessions", "mode", "health", "httpPort"));
    if (!s.has("port")) {
      throw new ConfigException(path + ".port", "is required");
    }
    int port = s.integer("port", 0, 1, 65535);
    String host = s.nonEmptyString("host", "127.0.0.1");
    BackendMode mode;
    try {
      mode = BackendMode.parse(s.string("mode", "active"));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(path + ".mode", e.getMessage());
    }
    HealthConfig health = HealthConfig.fromJson(path + ".health", s.raw("health"), defaults);
    int httpPort = s.integer("httpPort", 0, 0, 65535);
    if (health.kind() == HealthConfig.CheckKind.HTTP && httpPort == 0) {
      throw new ConfigException(path + ".httpPort", "is required by the \"http\" health check (or give this backend"
          + " another health.kind)");
    }
    return new BackendConfig(s.nonEmptyString("name", host + ":" + port), host, port,
        s.integer("priority", 0, 0, 1000), s.integer("weight", 1, 1, 1000), s.integer("maxSessions", 0, 0, 10_000_000),
        mode, health, httpPort);
  }

  /** Whether it serves DataSnap REST ({@code httpPort} given). */
  public boolean servesRest() {
    return httpPort > 0;
  }

  /** Same server (host and port): a reload may change everything else in place. */
  public boolean sameServer(BackendConfig other) {
    return host.equals(other.host) && port == other.port;
  }
}
