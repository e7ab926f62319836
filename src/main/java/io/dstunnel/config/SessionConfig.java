// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.config;

import io.dstunnel.framing.Framing;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Per-session behaviour: expiry, replay and answer buffering; the calls that replay must not run
 * again ({@code replaySkip}); the DBX connect of dstunnel's own connections to backends, which
 * carry a broadcast to the channels on other servers ({@code broadcastConnect}: may hold the
 * DataSnap server's credentials, never logged).
 */
public record SessionConfig(long idleTimeoutMs, int replayLimitBytes, int maxFailovers,
                            int heldAnswerLimitBytes, int pendingReadLimitBytes, Framing framing,
                            int instances, int maxSessions, int maxSessionsPerUser, long drainTimeoutMs,
                            long writeWaitMs, int backendWriteQueueBytes, long answerBudgetBytes,
                            List<String> replaySkip, JsonObject broadcastConnect) {
  public static final List<String> DEFAULT_REPLAY_SKIP = List.of("DSAdmin.BroadcastToChannel", "DSAdmin.NotifyCallback");
  public static final long DEFAULT_IDLE_TIMEOUT = 600_000;
  public static final int DEFAULT_REPLAY_LIMIT = 4 << 20;
  public static final int DEFAULT_MAX_FAILOVERS = 100;
  public static final int DEFAULT_HELD_ANSWER_LIMIT = 1 << 20;
  public static final int DEFAULT_PENDING_READ_LIMIT = 1 << 20;
  public static final int DEFAULT_MAX_SESSIONS = 100_000;
  public static final int DEFAULT_MAX_SESSIONS_PER_USER = 10_000;
  public static final long DEFAULT_DRAIN_TIMEOUT = 10_000;
  /** How long a write may wait for a backend that does not read before it is refused untaken. */
  public static final long DEFAULT_WRITE_WAIT = 20_000;
  public static final int DEFAULT_BACKEND_WRITE_QUEUE = 256 << 10;
  /** Unread answer bytes over all sessions: a quarter of the heap. */
  public static final long DEFAULT_ANSWER_BUDGET = Runtime.getRuntime().maxMemory() / 4;

  static SessionConfig fromJson(Object value) {
    JsonSection s = JsonSection.of("session", value, Set.of("idleTimeoutMs", "replayLimitBytes",
        "maxFailovers", "heldAnswerLimitBytes", "pendingReadLimitBytes", "framing", "instances", "maxSessions",
        "maxSessionsPerUser", "drainTimeoutMs", "writeWaitMs", "backendWriteQueueBytes", "answerBudgetBytes",
        "replaySkip", "broadcastConnect"));
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
        s.longValue("drainTimeoutMs", DEFAULT_DRAIN_TIMEOUT, 0, 3_600_000L),
        s.longValue("writeWaitMs", DEFAULT_WRITE_WAIT, 1, 600_000L),
        s.integer("backendWriteQueueBytes", DEFAULT_BACKEND_WRITE_QUEUE, 1024, 256 << 20),
        s.longValue("answerBudgetBytes", DEFAULT_ANSWER_BUDGET, 0, Long.MAX_VALUE),
        replaySkip(s), broadcastConnect(s));
  }

  private static List<String> replaySkip(JsonSection s) {
    JsonArray array = s.array("replaySkip");
    if (array == null) {
      return DEFAULT_REPLAY_SKIP;
    }
    List<String> methods = new ArrayList<>();
    for (int i = 0; i < array.size(); i++) {
      if (!(array.getValue(i) instanceof String m) || m.indexOf('.') <= 0) {
        throw new ConfigException("session.replaySkip[" + i + "]", "must be a method name such as \"TServerMethods1.AddOrder\"");
      }
      methods.add(m);
    }
    return List.copyOf(methods);
  }

  private static JsonObject broadcastConnect(JsonSection s) {
    Object v = s.raw("broadcastConnect");
    if (v == null) {
      return new JsonObject().put("DriverName", "Datasnap");
    }
    if (!(v instanceof JsonObject o)) {
      throw new ConfigException("session.broadcastConnect", "must be a JSON object of DBX connect properties");
    }
    return o.copy();
  }

  @Override
  public String toString() {
    return "SessionConfig[replaySkip=" + replaySkip + ", broadcastConnect=(hidden)]";
  }
}
