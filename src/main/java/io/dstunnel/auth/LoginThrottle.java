// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.auth;

import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Failed logins per client address: after {@code maxFailures} within a window, that address is
 * refused (429) until the window ends. An attempt counts from the moment it starts, not when its
 * (slow, hashed) check ends, so a burst of bad logins cannot start more checks than the limit.
 * Shared by every HTTP verticle instance and the admin listener, so spreading attempts over event
 * loops or listeners gains nothing. Bounded: expired windows are dropped once the table grows, and
 * past its cap only addresses that are locked out are kept.
 */
public final class LoginThrottle {

  private static final Logger LOG = LoggerFactory.getLogger(LoginThrottle.class);
  private static final int SWEEP_ABOVE = 10_000;
  private static final int CAP = 100_000;

  /** One address's window: when it started, failures in it, attempts under way. */
  private static final class Window {
    long start;
    int failures;
    int inFlight;
  }

  private final int maxFailures;
  private final long windowNanos;
  private final ConcurrentHashMap<String, Window> windows = new ConcurrentHashMap<>();

  public LoginThrottle(int maxFailures, long windowMs) {
    this.maxFailures = maxFailures;
    this.windowNanos = windowMs * 1_000_000;
  }

  /** Milliseconds until {@code address} may try again, or 0 when it may try now. */
  public long retryAfterMs(String address) {
    Window w = windows.get(address);
    if (w == null) {
      return 0;
    }
    synchronized (w) {
      return wait(w, System.nanoTime());
    }
  }

  /**
   * Starts an attempt from {@code address}: 0 if it may go on (it is then counted until
   * {@link #finished}), else the milliseconds until it may try again.
   */
  public long begin(String address) {
    long now = System.nanoTime();
    Window w = windows.computeIfAbsent(address, a -> fresh(now));
    long waitMs;
    synchronized (w) {
      waitMs = wait(w, now);
      if (waitMs == 0) {
        w.inFlight++;
      }
    }
    sweep(now);
    return waitMs;
  }

  /** Ends an attempt that {@link #begin} let through; a failure counts toward the lock-out. */
  public void finished(String address, boolean ok, String listener) {
    Window w = windows.get(address);
    if (w == null) {
      return;
    }
    synchronized (w) {
      w.inFlight = Math.max(0, w.inFlight - 1);
      if (ok) {
        return;
      }
      if (System.nanoTime() - w.start > windowNanos) {
        w.start = System.nanoTime();
        w.failures = 0;
      }
      w.failures++;
      LOG.warn("failed login on the {} listener from {} ({} of {} in the window)", listener, address, w.failures,
          maxFailures);
      if (w.failures == maxFailures) {
        LOG.warn("{} locked out of logins for {} ms after {} failures", address, windowNanos / 1_000_000, maxFailures);
      }
    }
  }

  private long wait(Window w, long now) {
    long left = w.start + windowNanos - now;
    if (left <= 0) {
      w.start = now;
      w.failures = 0;
      return 0;
    }
    return w.failures + w.inFlight >= maxFailures ? Math.max(1, left / 1_000_000) : 0;
  }

  private static Window fresh(long now) {
    Window w = new Window();
    w.start = now;
    return w;
  }

  private void sweep(long now) {
    if (windows.size() <= SWEEP_ABOVE) {
      return;
    }
    windows.entrySet().removeIf(e -> now - e.getValue().start > windowNanos && e.getValue().inFlight == 0);
    if (windows.size() > CAP) {
      windows.entrySet().removeIf(e -> e.getValue().failures < maxFailures && e.getValue().inFlight == 0);
    }
  }
}
