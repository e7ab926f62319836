package io.dstunnel.session;

/**
 * A session's failover decisions: whether a lost connection must be replaced now or may wait for
 * the client's next write, and whether a failover may happen at all (a half-streamed answer, a log
 * over its cap, too many failovers already).
 */
final class FailoverPolicy {

  private final int maxFailovers;
  private int failovers;

  FailoverPolicy(int maxFailovers) {
    this.maxFailovers = maxFailovers;
  }

  /**
   * Whether a connection lost while the session is {@code owed} an answer is replaced at once.
   * When nothing is owed (an idle session, or a server closing after the client's "disconnect")
   * the session moves on the client's next write instead: no stampede of replays when a server
   * with many idle sessions dies, and no replay loop after a normal close.
   */
  static boolean replaceNow(boolean owed) {
    return owed;
  }

  /** Why the session cannot fail over, or null if it may (and it is then counted). */
  String refusal(boolean streaming, boolean replayable) {
    if (streaming) {
      return "Answer interrupted by a backend failure";
    }
    if (!replayable) {
      return "Session over its replay limit could not be failed over";
    }
    if (failovers >= maxFailovers) {
      return "Session failed over " + failovers + " times";
    }
    failovers++;
    return null;
  }

  int failovers() {
    return failovers;
  }
}
