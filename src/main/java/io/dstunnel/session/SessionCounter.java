package io.dstunnel.session;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Sessions open in this process, shared by every session verticle instance: enforces the
 * session limit and, once draining, refuses new sessions.
 */
public final class SessionCounter {

  private final int limit;
  private final AtomicInteger open = new AtomicInteger();
  private volatile boolean draining;

  public SessionCounter(int limit) {
    this.limit = limit;
  }

  /** Takes a place for a new session; null when granted, else the reason it is refused. */
  String tryOpen() {
    if (draining) {
      return "Proxy is draining";
    }
    if (open.incrementAndGet() > limit) {
      open.decrementAndGet();
      return "Proxy is over its session limit";
    }
    return null;
  }

  void closed() {
    open.decrementAndGet();
  }

  public int open() {
    return open.get();
  }

  /** From now on new sessions are refused with 503. */
  public void drain() {
    draining = true;
  }
}
