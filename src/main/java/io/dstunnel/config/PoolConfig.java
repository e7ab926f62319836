// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.config;

import java.util.Set;

/**
 * How sessions reach backends: the balancing strategy among the preferred backends, slow start,
 * failback, the answer timeout that catches hung backends, and the connect timeout.
 */
public record PoolConfig(int connectTimeoutMs, Strategy strategy, long slowStartMs, Failback failback,
                         int migrateRatePerSecond, long answerTimeoutMs) {
  public static final int DEFAULT_CONNECT_TIMEOUT = 3000;
  public static final int DEFAULT_MIGRATE_RATE = 50;
  /** How long a broadcast waits for the other backends when {@code answerTimeoutMs} is 0 (off). */
  public static final long DEFAULT_BROADCAST_TIMEOUT = 10_000;

  /** How new sessions are spread over the healthy backends of the preferred priority. */
  public enum Strategy {
    ROUND_ROBIN("round-robin"), LEAST_SESSIONS("least-sessions"), WEIGHTED("weighted"),
    POWER_OF_TWO_CHOICES("power-of-two-choices");

    private final String key;

    Strategy(String key) {
      this.key = key;
    }

    public String key() {
      return key;
    }
  }

  /** What happens when a preferred backend recovers. */
  public enum Failback {
    /** New sessions go to it again; existing sessions stay where they are. */
    NEW_SESSIONS("new-sessions"),
    /** As NEW_SESSIONS, and idle sessions move back to it by replay, rate-limited. */
    MIGRATE_IDLE("migrate-idle"),
    /** It takes no new session until an operator enables it (a reload or the admin API). */
    NONE("none");

    private final String key;

    Failback(String key) {
      this.key = key;
    }

    public String key() {
      return key;
    }
  }

  /**
   * How long a broadcast fanned out to the other backends (DBX or REST) waits for each of them:
   * {@code answerTimeoutMs}, or {@link #DEFAULT_BROADCAST_TIMEOUT} when that is off.
   */
  public long broadcastTimeoutMs() {
    return answerTimeoutMs > 0 ? answerTimeoutMs : DEFAULT_BROADCAST_TIMEOUT;
  }

  static PoolConfig fromJson(Object value) {
    JsonSection s = JsonSection.of("pool", value, Set.of("connectTimeoutMs", "strategy", "slowStartMs", "failback",
        "migrateRatePerSecond", "answerTimeoutMs"));
    return new PoolConfig(
        s.integer("connectTimeoutMs", DEFAULT_CONNECT_TIMEOUT, 1, 600_000),
        s.oneOf("strategy", Strategy.values(), Strategy::key, Strategy.ROUND_ROBIN),
        s.longValue("slowStartMs", 0, 0, 3_600_000L),
        s.oneOf("failback", Failback.values(), Failback::key, Failback.NEW_SESSIONS),
        s.integer("migrateRatePerSecond", DEFAULT_MIGRATE_RATE, 1, 1_000_000),
        s.longValue("answerTimeoutMs", 0, 0, 86_400_000L));
  }
}
