// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.config;

import java.util.Set;

/**
 * A health check: every {@code intervalMs}, a TCP connect ("tcp"), a DBX filter query that
 * must be answered {@code 06 00 00 00 00} ("dbx"), or an HTTP GET of {@code httpPath} on the
 * backend's REST port answered below 500 ("http"), within {@code timeoutMs}; {@code rise}
 * successes in a row mark a backend up, {@code fall} failures in a row mark it down. Live
 * traffic counts too: a connect failure or a reset is a failure, a connect a success.
 */
public record HealthConfig(long intervalMs, int timeoutMs, int rise, int fall, CheckKind kind, String httpPath) {
  public static final HealthConfig DEFAULTS = new HealthConfig(1000, 1000, 2, 2, CheckKind.TCP, "/datasnap/rest/");

  /** What a check does. */
  public enum CheckKind {
    TCP("tcp"), DBX("dbx"), HTTP("http");

    private final String key;

    CheckKind(String key) {
      this.key = key;
    }

    public String key() {
      return key;
    }
  }

  static HealthConfig fromJson(String path, Object value, HealthConfig d) {
    JsonSection s = JsonSection.of(path, value, Set.of("intervalMs", "timeoutMs", "rise", "fall", "kind",
        "httpPath"));
    String httpPath = s.nonEmptyString("httpPath", d.httpPath());
    if (!httpPath.startsWith("/")) {
      throw new ConfigException(path + ".httpPath", "must start with /");
    }
    return new HealthConfig(
        s.longValue("intervalMs", d.intervalMs(), 10, 3_600_000L),
        s.integer("timeoutMs", d.timeoutMs(), 1, 600_000),
        s.integer("rise", d.rise(), 1, 100),
        s.integer("fall", d.fall(), 1, 100),
        s.oneOf("kind", CheckKind.values(), CheckKind::key, d.kind()), httpPath);
  }
}
