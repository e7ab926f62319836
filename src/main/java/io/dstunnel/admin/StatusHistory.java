// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.admin;

import io.dstunnel.events.ProxyMetrics;
import io.dstunnel.session.SessionCounter;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;

/**
 * The last ten minutes of this node at a glance, for the status page's charts: one sample every
 * {@link #INTERVAL_MS}, {@link #SIZE} kept (a few kilobytes). Each sample has requests answered per
 * second, sessions open, failovers and the mean time a read waited for its answer over the
 * interval before it. Taken and read on the admin verticle's event loop only: no lock; a sample is
 * a few counter reads, nothing that blocks. With {@code admin.metrics} off the rates stay at zero.
 */
final class StatusHistory {

  /** One sample every five seconds. */
  static final long INTERVAL_MS = 5_000;
  /** Ten minutes of samples. */
  static final int SIZE = 120;

  private final ProxyMetrics metrics;
  private final SessionCounter sessions;
  private final ArrayDeque<JsonObject> samples = new ArrayDeque<>(SIZE);
  private long lastAt;
  private double lastRequests;
  private double lastFailovers;
  private long lastReads;
  private double lastReadMillis;

  StatusHistory(ProxyMetrics metrics, SessionCounter sessions) {
    this.metrics = metrics;
    this.sessions = sessions;
    lastAt = System.currentTimeMillis();
    lastRequests = metrics.requestsEnded();
    lastFailovers = metrics.failovers();
    lastReads = metrics.readWaits();
    lastReadMillis = metrics.readWaitMillis();
  }

  /** Takes a sample of the interval since the last one. */
  void sample() {
    long now = System.currentTimeMillis();
    double requests = metrics.requestsEnded();
    double failovers = metrics.failovers();
    long reads = metrics.readWaits();
    double readMillis = metrics.readWaitMillis();
    double seconds = Math.max(0.001, (now - lastAt) / 1000.0);
    JsonObject s = new JsonObject().put("at", now)
        .put("requestsPerSecond", Math.round((requests - lastRequests) / seconds * 10) / 10.0)
        .put("sessions", sessions.open())
        .put("failovers", Math.round(failovers - lastFailovers))
        .put("readWaitMs", reads == lastReads ? null
            : Math.round((readMillis - lastReadMillis) / (reads - lastReads) * 10) / 10.0);
    samples.addLast(s);
    if (samples.size() > SIZE) {
      samples.removeFirst();
    }
    lastAt = now;
    lastRequests = requests;
    lastFailovers = failovers;
    lastReads = reads;
    lastReadMillis = readMillis;
  }

  /** What {@code /admin/history} answers: the interval and the samples, oldest first. */
  JsonObject toJson() {
    return new JsonObject().put("intervalMs", INTERVAL_MS).put("samples", new JsonArray(new java.util.ArrayList<>(samples)));
  }
}
