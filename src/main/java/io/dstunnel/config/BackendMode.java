// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.config;

/** What an operator wants of a backend (config key {@code backends[].mode}, or the admin API). */
public enum BackendMode {
  /** Takes new sessions when healthy. */
  ACTIVE("active"),
  /** Takes no new session; its sessions go on where they are. */
  DRAIN("drain"),
  /** Takes no new session; its sessions move to other backends by replay as soon as each is idle. */
  MIGRATE("migrate"),
  /** Down for maintenance: no new session, not even as a last resort, and its sessions move away. */
  DISABLE("disable");

  private final String key;

  BackendMode(String key) {
    this.key = key;
  }

  public String key() {
    return key;
  }

  static BackendMode parse(String value) {
    for (BackendMode m : values()) {
      if (m.key.equals(value)) {
        return m;
      }
    }
    throw new IllegalArgumentException("must be one of \"active\", \"drain\", \"migrate\", \"disable\"");
  }
}
