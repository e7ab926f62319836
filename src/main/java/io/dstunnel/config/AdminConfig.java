package io.dstunnel.config;

import java.util.Set;

/**
 * The admin listener: metrics, health probes, the admin API and the status page, on its own
 * port, protected by the same users (the probes excepted).
 */
public record AdminConfig(boolean enabled, String host, int port, boolean metrics) {
  public static final int DEFAULT_PORT = 8081;

  static AdminConfig fromJson(Object value) {
    JsonSection s = JsonSection.of("admin", value, Set.of("enabled", "host", "port", "metrics"));
    return new AdminConfig(s.bool("enabled", true), s.nonEmptyString("host", "127.0.0.1"),
        s.integer("port", DEFAULT_PORT, 0, 65535), s.bool("metrics", true));
  }
}
