package io.dstunnel.tunnel;

import io.vertx.core.Vertx;
import java.util.ArrayDeque;

/**
 * Deadlines of one fixed length, checked by one periodic tick instead of a timer per request:
 * since every deadline is "now + the same timeout", they expire in the order they were added, so
 * a FIFO queue is all it takes (adding is O(1), no timer is set or cancelled on the hot path).
 * One instance per event loop; an action decides for itself whether it is still due.
 */
final class Deadlines {

  private record Entry(long due, Runnable action) { }

  private final long timeoutNanos;
  private final ArrayDeque<Entry> queue = new ArrayDeque<>();

  Deadlines(Vertx vertx, long timeoutMs) {
    this.timeoutNanos = timeoutMs * 1_000_000;
    if (timeoutMs > 0) {
      vertx.setPeriodic(Math.max(10, Math.min(250, timeoutMs / 4)), t -> expire(System.nanoTime()));
    }
  }

  boolean enabled() {
    return timeoutNanos > 0;
  }

  long timeoutMs() {
    return timeoutNanos / 1_000_000;
  }

  /** Runs {@code action} once the timeout has passed (within a tick), unless it finds nothing to do. */
  void add(Runnable action) {
    if (timeoutNanos > 0) {
      queue.addLast(new Entry(System.nanoTime() + timeoutNanos, action));
    }
  }

  private void expire(long now) {
    while (!queue.isEmpty() && queue.peekFirst().due() - now <= 0) {
      queue.pollFirst().action().run();
    }
  }
}
