package io.dstunnel.auth;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Failed logins per client address: after {@code maxFailures} within a window, that address is
 * refused (429) until the window ends. Shared by every HTTP verticle instance (and the admin
 * listener), so spreading attempts over event loops gains nothing. Bounded: expired windows are
 * dropped once the table grows.
 */
public final class LoginThrottle {

  private static final int SWEEP_ABOVE = 10_000;

  private final int maxFailures;
  private final long windowNanos;
  private final ConcurrentHashMap<String, long[]> windows = new ConcurrentHashMap<>();

  public LoginThrottle(int maxFailures, long windowMs) {
    this.maxFailures = maxFailures;
    this.windowNanos = windowMs * 1_000_000;
  }

  /** Milliseconds until {@code address} may try again, or 0 when it may try now. */
  public long retryAfterMs(String address) {
    long[] w = windows.get(address);
    if (w == null) {
      return 0;
    }
    synchronized (w) {
      long left = w[0] + windowNanos - System.nanoTime();
      if (left <= 0) {
        return 0;
      }
      return w[1] >= maxFailures ? Math.max(1, left / 1_000_000) : 0;
    }
  }

  /** Counts a failed login from {@code address}. */
  public void failed(String address) {
    long now = System.nanoTime();
    long[] w = windows.computeIfAbsent(address, a -> new long[] {now, 0});
    synchronized (w) {
      if (now - w[0] > windowNanos) {
        w[0] = now;
        w[1] = 0;
      }
      w[1]++;
    }
    if (windows.size() > SWEEP_ABOVE) {
      windows.entrySet().removeIf(e -> now - e.getValue()[0] > windowNanos);
    }
  }
}
