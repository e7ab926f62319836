// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.events;

import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy's event log: one structured line per session event and backend health change, on
 * the logger {@code dstunnel.events}. Fields are SLF4J key-values, so a JSON encoder emits them
 * as fields. Never given payload bytes, passwords or headers: only ids, names and counts.
 * Writes and reads are logged at DEBUG (one line per tunnel request), the rest at INFO.
 */
public final class EventLog {

  private static final Logger LOG = LoggerFactory.getLogger("dstunnel.events");

  private final ProxyMetrics metrics;
  private final EventHistory history;

  /** An event log that also counts into {@code metrics} and remembers into {@code history}. */
  public EventLog(ProxyMetrics metrics, EventHistory history) {
    this.metrics = metrics;
    this.history = history;
  }

  /** Logging only (tests, tools). */
  public EventLog() {
    this(ProxyMetrics.none(), new EventHistory());
  }

  public ProxyMetrics metrics() {
    return metrics;
  }

  public EventHistory history() {
    return history;
  }

  public void open(String session, String user, String backend, int bytes) {
    metrics.sessionOpened();
    with(with(LOG.atInfo().setMessage("open").addKeyValue("session", session), "user", user), "backend", backend)
        .addKeyValue("bytes", bytes).log();
  }

  public void write(String session, int bytes) {
    if (LOG.isDebugEnabled()) {
      LOG.atDebug().setMessage("write").addKeyValue("session", session).addKeyValue("bytes", bytes).log();
    }
  }

  public void read(String session, int bytes) {
    if (LOG.isDebugEnabled()) {
      LOG.atDebug().setMessage("read").addKeyValue("session", session).addKeyValue("bytes", bytes).log();
    }
  }

  public void close(String session, String reason) {
    LOG.atInfo().setMessage("close").addKeyValue("session", session).addKeyValue("reason", reason).log();
  }

  public void error(String session, String backend, String reason) {
    with(LOG.atWarn().setMessage("error").addKeyValue("session", session), "backend", backend)
        .addKeyValue("reason", reason).log();
  }

  /** A session moved to another backend; {@code kind} is a short, bounded reason for metrics. */
  public void failover(String session, String from, String to, String kind, String reason, long replayedBytes,
                       long droppedAnswers, long durationNanos) {
    long durationMs = durationNanos / 1_000_000;
    metrics.failover(kind, from, to, replayedBytes, durationNanos);
    history.failover(new JsonObject().put("session", session).put("from", from).put("to", to)
        .put("reason", reason).put("kind", kind).put("replayedBytes", replayedBytes)
        .put("droppedAnswers", droppedAnswers).put("durationMs", durationMs));
    with(LOG.atInfo().setMessage("failover").addKeyValue("session", session), "from", from)
        .addKeyValue("to", to).addKeyValue("kind", kind).addKeyValue("reason", reason).addKeyValue("replayedBytes", replayedBytes)
        .addKeyValue("droppedAnswers", droppedAnswers).addKeyValue("durationMs", durationMs).log();
  }

  /** A REST session's backend was lost: the session logged in again on {@code to} (same id for the client). */
  public void restRelogin(String session, String from, String to) {
    metrics.restRelogin();
    with(LOG.atInfo().setMessage("rest-relogin").addKeyValue("session", session), "from", from)
        .addKeyValue("to", to).log();
  }

  /** A callback channel was registered again on another backend (pushes not yet sent are lost). */
  public void channelReplayed(String session, String channel, String backend) {
    metrics.channelFailover();
    LOG.atInfo().setMessage("channel-failover").addKeyValue("session", session).addKeyValue("channel", channel)
        .addKeyValue("backend", backend).log();
  }

  /** A call that must not run twice was lost with its backend: the client gets an error for it. */
  public void callNotRerun(String session, String method) {
    metrics.callNotRerun();
    LOG.atWarn().setMessage("not-rerun").addKeyValue("session", session).addKeyValue("method", method).log();
  }

  public void replayCapExceeded(String session, long bytes) {
    metrics.replayCapExceeded();
    LOG.atWarn().setMessage("replay-cap").addKeyValue("session", session).addKeyValue("bytes", bytes).log();
  }

  /** A backend's health changed: {@code state} is its state's name (null for the whole pool). */
  public void health(String backend, String state, String reason) {
    history.health(new JsonObject().put("backend", backend).put("state", state).put("reason", reason));
    with(LOG.atInfo().setMessage("health").addKeyValue("backend", backend), "state", state)
        .addKeyValue("reason", reason).log();
  }

  /**
   * An operator's action on the admin listener (the audit trail): who, what, on what, from which
   * address, and how it ended ({@code ok}, {@code not found}, {@code forbidden: ...},
   * {@code refused: ...}). Never a credential.
   */
  public void audit(String user, String action, String target, String from, String result) {
    history.audit(new JsonObject().put("user", user).put("action", action).put("target", target)
        .put("from", from).put("result", result));
    LOG.atInfo().setMessage("audit").addKeyValue("user", user).addKeyValue("action", action)
        .addKeyValue("target", target).addKeyValue("from", from).addKeyValue("result", result).log();
  }

  /** Adds a key only when it has a value: no {@code user=null} in the log. */
  private static org.slf4j.spi.LoggingEventBuilder with(org.slf4j.spi.LoggingEventBuilder b, String key, Object value) {
    return value == null ? b : b.addKeyValue(key, value);
  }
}
