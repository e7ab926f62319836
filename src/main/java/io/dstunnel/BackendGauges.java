// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel;

import io.dstunnel.backend.Backend;
import io.dstunnel.backend.BackendPool;
import io.dstunnel.events.ProxyMetrics;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The backend-up gauges, one per configured backend: {@link #follow} adds one for each backend
 * the pool has gained and removes those of backends a reload took away.
 */
final class BackendGauges {

  private final BackendPool pool;
  private final ProxyMetrics metrics;
  private final Set<String> gauged = ConcurrentHashMap.newKeySet();

  BackendGauges(BackendPool pool, ProxyMetrics metrics) {
    this.pool = pool;
    this.metrics = metrics;
  }

  /** Brings the gauges in line with the pool's backends (at start, and after each reload). */
  void follow() {
    Set<String> configured = new HashSet<>();
    pool.backends().forEach(b -> configured.add(b.name()));
    for (Iterator<String> it = gauged.iterator(); it.hasNext(); ) {
      String name = it.next();
      if (!configured.contains(name)) {
        it.remove();
        metrics.backendGone(name);
      }
    }
    for (Backend b : pool.backends()) {
      String name = b.name();
      if (gauged.add(name)) {
        metrics.backendUp(name, () -> {
          Backend now = pool.byName(name);
          // (NaN once the backend is gone from the pool: no "down" alert for a server removed
          // while it still drained; a reload removes its gauge too.)
          return now == null ? Double.NaN : now.isUp() ? 1 : 0;
        });
      }
    }
  }
}
