package io.dstunnel.session;

/**
 * Event-bus addresses. Opening goes to any session verticle instance; after that a session is
 * reached only at the address derived from its id, wherever (on whichever node) it lives.
 */
public final class Addresses {

  /** Point-to-point: the event bus spreads new sessions round-robin over the session verticles. */
  public static final String OPEN = "dstunnel.session.open";

  /** Published on every change of a backend's health, mode or membership; the body is the reason. */
  public static final String POOL_CHANGED = "dstunnel.pool.changed";

  private static final String LIST_PREFIX = "dstunnel.admin.sessions.";

  private static final String SESSION_PREFIX = "dstunnel.session.id.";

  private Addresses() {
  }

  /** Where session verticle instance {@code index} answers with a snapshot of its sessions. */
  public static String sessionList(int index) {
    return LIST_PREFIX + index;
  }

  /** Where session verticle {@code index} answers how many of its sessions are owed an answer. */
  public static String sessionsOwed(int index) {
    return "dstunnel.admin.owed." + index;
  }

  public static String session(String id) {
    return SESSION_PREFIX + id;
  }
}
