// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.backend;

import io.dstunnel.config.BackendMode;
import io.dstunnel.config.BackendConfig;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One backend server and what the proxy knows of it. Shared by every event loop of the process:
 * the config is replaced whole on a reload (volatile), health counting is synchronized (a few
 * increments per check), the session count is atomic.
 */
public final class Backend {

  private volatile BackendConfig config;
  private volatile boolean healthy = true;
  private volatile long upSinceNanos;
  private volatile boolean held;
  private volatile boolean removed;
  /** A mode an operator set through the admin API; it outlives reloads that leave this backend's mode alone. */
  private volatile BackendMode adminMode;
  private int successes;
  private int failures;
  private final AtomicInteger sessions = new AtomicInteger();

  public Backend(BackendConfig config) {
    this.config = config;
    this.upSinceNanos = System.nanoTime() - Long.MAX_VALUE / 4; // long up: no slow start at start-up
  }

  public BackendConfig config() {
    return config;
  }

  void config(BackendConfig next) {
    this.config = next;
  }

  public String name() {
    return config.name();
  }

  public String host() {
    return config.host();
  }

  public int port() {
    return config.port();
  }

  public int priority() {
    return config.priority();
  }

  public int weight() {
    return config.weight();
  }

  public BackendMode mode() {
    BackendMode set = adminMode;
    return removed ? BackendMode.DRAIN : set != null ? set : config.mode();
  }

  /** Where the mode comes from: "config", "admin" (the admin API) or "removed" (gone from the config). */
  public String modeSource() {
    return removed ? "removed" : adminMode != null ? "admin" : "config";
  }

  void adminMode(BackendMode mode) {
    this.adminMode = mode;
  }

  public boolean isUp() {
    return healthy;
  }

  /** The state shown to operators. */
  public BackendState state() {
    BackendMode m = mode();
    if (m == BackendMode.DISABLE) {
      return BackendState.DISABLED;
    }
    if (m != BackendMode.ACTIVE) {
      return BackendState.DRAINING;
    }
    return healthy ? BackendState.UP : BackendState.DOWN;
  }

  /** Healthy, active, not held after a failure (failback "none") and not full. */
  public boolean acceptsNewSessions() {
    return healthy && !held && mode() == BackendMode.ACTIVE && !full();
  }

  /** Active and not full, though marked down or held: worth a try when nothing better is left. */
  boolean lastResort() {
    return mode() == BackendMode.ACTIVE && !full();
  }

  public boolean full() {
    int max = config.maxSessions();
    return max > 0 && sessions.get() >= max;
  }

  /** Whether it should hand its sessions to other backends (migrate, disable). */
  public boolean evicting() {
    BackendMode m = mode();
    return m == BackendMode.MIGRATE || m == BackendMode.DISABLE;
  }

  /** Share of a full weight while slow start ramps it up after a recovery: 0 to 1. */
  public double ramp(long nowNanos, long slowStartNanos) {
    if (slowStartNanos <= 0) {
      return 1;
    }
    double r = (double) (nowNanos - upSinceNanos) / slowStartNanos;
    return r >= 1 ? 1 : Math.max(r, 0);
  }

  boolean held() {
    return held;
  }

  void held(boolean value) {
    held = value;
  }

  boolean removed() {
    return removed;
  }

  void remove() {
    removed = true;
  }

  /**
   * Counts one health observation against rise and fall; returns the new health when it flips,
   * null otherwise.
   */
  synchronized Boolean observe(boolean success, int rise, int fall) {
    if (success) {
      failures = 0;
      successes++;
      if (!healthy && successes >= rise) {
        healthy = true;
        upSinceNanos = System.nanoTime();
        return Boolean.TRUE;
      }
    } else {
      successes = 0;
      failures++;
      if (healthy && failures >= fall) {
        healthy = false;
        return Boolean.FALSE;
      }
    }
    return null;
  }

  /** Sessions currently attached to this backend. */
  public int sessions() {
    return sessions.get();
  }

  public void attached() {
    sessions.incrementAndGet();
  }

  public void detached() {
    sessions.decrementAndGet();
  }

  @Override
  public String toString() {
    return name() + "(" + host() + ":" + port() + ")";
  }
}
