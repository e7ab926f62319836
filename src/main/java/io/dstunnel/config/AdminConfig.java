// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.config;

import io.vertx.core.json.JsonArray;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The admin listener: metrics, health probes, the admin API and the status page, on its own
 * port, protected by the same users (the probes excepted).
 *
 * @param allowedHosts host names (besides IP addresses and {@code localhost}) the admin listener
 *     answers to in a request's {@code Host}: a page on a rebound DNS name never reaches it
 * @param fronts the fronts trusted to name the operator behind them (none by default)
 */
public record AdminConfig(boolean enabled, String host, int port, boolean metrics, List<String> allowedHosts,
                          TrustedFronts fronts) {
  public static final int DEFAULT_PORT = 8081;

  static AdminConfig fromJson(Object value) {
    JsonSection s = JsonSection.of("admin", value, Set.of("enabled", "host", "port", "metrics", "allowedHosts",
        "trustedProxies", "forwardedHeader", "proxyProtocol"));
    List<String> hosts = new ArrayList<>();
    JsonArray array = s.array("allowedHosts");
    if (array != null) {
      for (int i = 0; i < array.size(); i++) {
        if (!(array.getValue(i) instanceof String h) || h.isBlank() || h.contains(":") || h.contains("/")) {
          throw new ConfigException("admin.allowedHosts[" + i + "]", "must be a host name such as \"dstunnel.example\" "
              + "(no port)");
        }
        hosts.add(h.toLowerCase(java.util.Locale.ROOT));
      }
    }
    return new AdminConfig(s.bool("enabled", true), s.nonEmptyString("host", "127.0.0.1"),
        s.integer("port", DEFAULT_PORT, 0, 65535), s.bool("metrics", true), List.copyOf(hosts),
        TrustedFronts.fromJson(s));
  }
}
