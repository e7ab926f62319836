// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.config;

import io.vertx.core.json.JsonArray;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Users allowed to open sessions; no users means no authentication. After
 * {@code maxFailures} failed logins from one client address within {@code failureWindowMs},
 * that address gets 429 until the window has passed.
 */
public record AuthConfig(List<UserConfig> users, int maxFailures, long failureWindowMs) {
  static AuthConfig fromJson(Object value) {
    JsonSection s = JsonSection.of("auth", value, Set.of("users", "maxFailures", "failureWindowMs"));
    JsonArray array = s.array("users");
    List<UserConfig> users = new ArrayList<>();
    Set<String> names = new HashSet<>();
    if (array != null) {
      for (int i = 0; i < array.size(); i++) {
        UserConfig u = UserConfig.fromJson("auth.users[" + i + "]", array.getValue(i));
        if (!names.add(u.name())) {
          throw new ConfigException("auth.users[" + i + "].name", "duplicate user \"" + u.name() + "\"");
        }
        users.add(u);
      }
    }
    return new AuthConfig(List.copyOf(users), s.integer("maxFailures", 10, 1, 1_000_000),
        s.longValue("failureWindowMs", 60_000, 100, 86_400_000L));
  }

  public boolean enabled() {
    return !users.isEmpty();
  }

  /** Whether some user holds {@code role} (with no users at all, everything is open). */
  public boolean anyHolds(Role role) {
    return users.stream().anyMatch(u -> u.holds(role));
  }
}
