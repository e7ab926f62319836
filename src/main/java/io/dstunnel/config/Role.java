// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.config;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * What a user of {@code auth.users} may do. A DataSnap client's password (often compiled into a
 * desktop application) must not be an operator's key, so the tunnel, the admin side and the
 * metrics scrape are separate grants.
 */
public enum Role {
  /** Open and use tunnel (and REST) sessions: every user without {@code roles} holds it. */
  TUNNEL("tunnel"),
  /** The admin API and status page on the admin listener, {@code /metrics} included. */
  ADMIN("admin"),
  /** Only {@code GET /metrics} on the admin listener, for Prometheus. */
  METRICS("metrics");

  private final String key;

  Role(String key) {
    this.key = key;
  }

  public String key() {
    return key;
  }

  static Role of(String key) {
    for (Role r : values()) {
      if (r.key.equals(key)) {
        return r;
      }
    }
    return null;
  }

  static String keys() {
    return Arrays.stream(values()).map(Role::key).collect(Collectors.joining(", "));
  }
}
