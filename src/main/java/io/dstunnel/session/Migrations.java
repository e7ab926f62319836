// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session;

import io.dstunnel.backend.Backend;
import io.dstunnel.backend.BackendPool;
import io.dstunnel.config.BackendMode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Moves a session verticle's idle sessions off backends being migrated or disabled, and back to
 * recovered preferred backends under failback "migrate-idle", at most the configured rate (shared
 * by the instances). Looks only after the pool changed, or while moves are still owed. Runs on the
 * verticle's event loop, every {@link #TICK_MS}.
 */
final class Migrations {

  /** How often pending migrations (migrate, disable, failback "migrate-idle") are looked at. */
  static final long TICK_MS = 100;

  private final BackendPool pool;
  private final int instances;
  private long seenGeneration = -1;
  private boolean pending;

  /** {@code instances}: how many session verticles share the rate. */
  Migrations(BackendPool pool, int instances) {
    this.pool = pool;
    this.instances = Math.max(1, instances);
  }

  /** The pool changed (a backend added, removed, disabled...): look at the sessions next tick. */
  void poolChanged() {
    pending = true;
  }

  /**
   * One tick: moves what must move among the {@code live} sessions, within this tick's budget. The
   * list is asked for only when the pool changed: most ticks cost nothing.
   */
  void tick(Supplier<List<Session>> live) {
    pool.pruneRemoved();
    long gen = pool.generation();
    if (gen == seenGeneration && !pending) {
      return;
    }
    seenGeneration = gen;
    pending = false;
    int moves = Math.max(1, (int) (pool.config().migrateRatePerSecond() * TICK_MS / 1000 / instances));
    // Whether a backend's sessions must move is asked once per backend and tick (no balancing);
    // the balancing order (which advances round-robin credit) only for the sessions actually moved.
    Map<Backend, Boolean> leaving = new HashMap<>();
    for (Session s : live.get()) {
      Backend current = s.backend();
      if (current == null || !leaving.computeIfAbsent(current, pool::mustLeave)) {
        continue;
      }
      if (moves == 0) {
        pending = true;  // over this tick's budget: look again next tick
        break;
      }
      Backend target = pool.migrationTarget(current);
      if (target == null || !s.migrate(target, current.evicting() || current.mode() != BackendMode.ACTIVE
          ? "backend " + current.mode().key() : "failback")) {
        pending = true;  // busy: look again next tick
        continue;
      }
      moves--;
    }
  }
}
