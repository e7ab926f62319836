package io.dstunnel.events;

import io.dstunnel.backend.BackendState;
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

  public void open(String session, String user, String backend, int bytes) {
    LOG.atInfo().setMessage("open").addKeyValue("session", session).addKeyValue("user", user)
        .addKeyValue("backend", backend).addKeyValue("bytes", bytes).log();
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
    LOG.atWarn().setMessage("error").addKeyValue("session", session).addKeyValue("backend", backend)
        .addKeyValue("reason", reason).log();
  }

  public void failover(String session, String from, String to, String reason, long replayedBytes,
                       long droppedAnswers, long durationMs) {
    LOG.atInfo().setMessage("failover").addKeyValue("session", session).addKeyValue("from", from)
        .addKeyValue("to", to).addKeyValue("reason", reason).addKeyValue("replayedBytes", replayedBytes)
        .addKeyValue("droppedAnswers", droppedAnswers).addKeyValue("durationMs", durationMs).log();
  }

  public void replayCapExceeded(String session, long bytes) {
    LOG.atWarn().setMessage("replay-cap").addKeyValue("session", session).addKeyValue("bytes", bytes).log();
  }

  public void health(String backend, BackendState state, String reason) {
    LOG.atInfo().setMessage("health").addKeyValue("backend", backend).addKeyValue("state", state)
        .addKeyValue("reason", reason).log();
  }
}
