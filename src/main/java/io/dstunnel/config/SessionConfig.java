package io.dstunnel.config;

import io.dstunnel.framing.Framing;
import java.util.Set;

/** Per-session behaviour: expiry, replay and answer buffering. */
public record SessionConfig(long idleTimeoutMs, int replayLimitBytes, int maxFailovers,
                            int heldAnswerLimitBytes, int pendingReadLimitBytes, Framing framing,
                            int instances, int maxSessions, int maxSessionsPerUser, long drainTimeoutMs) {
  public static final long DEFAULT_IDLE_TIMEOUT = 600_000;
  public static final int DEFAULT_REPLAY_LIMIT = 4 << 20;
  public static final int DEFAULT_MAX_FAILOVERS = 100;
  public static final int DEFAULT_HELD_ANSWER_LIMIT = 1 << 20;
  public static final int DEFAULT_PENDING_READ_LIMIT = 1 << 20;
  public static final int DEFAULT_MAX_SESSIONS = 100_000;
  public static final int DEFAULT_MAX_SESSIONS_PER_USER = 10_000;
  public static final long DEFAULT_DRAIN_TIMEOUT = 10_000;

  static SessionConfig fromJson(Object value) {
    JsonSection s = JsonSection.of("session", value, Set.of("idleTimeoutMs", "replayLimitBytes",
        "maxFailovers", "heldAnswerLimitBytes", "pendingReadLimitBytes", "framing", "instances", "maxSessions", "maxSessionsPerUser", "drainTimeoutMs"));
    Framing framing;
    try {
      framing = Framing.parse(s.string("framing", "dbx"));
    } catch (IllegalArgumentException e) {
      throw new ConfigException("session.framing", e.getMessage());
    }
    return new SessionConfig(
        s.longValue("idleTimeoutMs", DEFAULT_IDLE_TIMEOUT, 100, 7L * 86_400_000L),
        s.integer("replayLimitBytes", DEFAULT_REPLAY_LIMIT, 0, Integer.MAX_VALUE - 1),
        s.integer("maxFailovers", DEFAULT_MAX_FAILOVERS, 0, 1_000_000),
        s.integer("heldAnswerLimitBytes", DEFAULT_HELD_ANSWER_LIMIT, 0, 256 << 20),
        s.integer("pendingReadLimitBytes", DEFAULT_PENDING_READ_LIMIT, 1, 256 << 20),
        framing,
        s.integer("instances", Runtime.getRuntime().availableProcessors(), 1, 256),
        s.integer("maxSessions", DEFAULT_MAX_SESSIONS, 1, 10_000_000),
        s.integer("maxSessionsPerUser", DEFAULT_MAX_SESSIONS_PER_USER, 1, 10_000_000),
        s.longValue("drainTimeoutMs", DEFAULT_DRAIN_TIMEOUT, 0, 3_600_000L));
  }
}
