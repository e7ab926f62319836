// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.events;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The proxy's own meters, on one Micrometer registry (Prometheus in production, a no-op registry
 * when metrics are off). Meters with tags are looked up once and cached, so the hot path pays a
 * map lookup and an atomic add.
 */
public final class ProxyMetrics {

  private final MeterRegistry registry;
  private final Counter sessionsOpened;
  private final Counter replayCapExceeded;
  private final Counter bytesIn;
  private final Counter bytesOut;
  private final Counter channelFailovers;
  private final Counter callsNotRerun;
  private final DistributionSummary replayBytes;
  private final Timer replayDuration;
  private final Timer readWait;
  private final ConcurrentHashMap<String, Counter> counters = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Counter[]> requests = new ConcurrentHashMap<>();

  public ProxyMetrics(MeterRegistry registry) {
    this.registry = registry;
    sessionsOpened = Counter.builder("dstunnel.sessions.opened").description("Sessions opened").register(registry);
    replayCapExceeded = Counter.builder("dstunnel.sessions.replay.cap.exceeded")
        .description("Sessions whose replay log outgrew its cap").register(registry);
    bytesIn = Counter.builder("dstunnel.bytes.in").baseUnit("bytes").description("Bytes written by clients")
        .register(registry);
    channelFailovers = Counter.builder("dstunnel.channel.failovers").description("Callback channels registered again"
        + " on another backend by a failover: pushes the lost backend had not delivered are lost with it")
        .register(registry);
    callsNotRerun = Counter.builder("dstunnel.calls.not.rerun").description("Calls of session.replaySkip lost with"
        + " a backend before their answer: answered with an error instead of running again").register(registry);
    bytesOut = Counter.builder("dstunnel.bytes.out").baseUnit("bytes").description("Bytes read by clients")
        .register(registry);
    replayBytes = DistributionSummary.builder("dstunnel.replay.bytes").baseUnit("bytes")
        .description("Bytes replayed per failover").publishPercentileHistogram().register(registry);
    replayDuration = Timer.builder("dstunnel.replay.duration").description("Failover time: connect and replay")
        .publishPercentileHistogram().minimumExpectedValue(Duration.ofNanos(100_000))
        .maximumExpectedValue(Duration.ofSeconds(30)).register(registry);
    readWait = Timer.builder("dstunnel.read.wait").description("Time a read waited for its bytes")
        .publishPercentileHistogram().maximumExpectedValue(Duration.ofSeconds(60)).register(registry);
  }

  /** Metrics off: every meter is a no-op. */
  public static ProxyMetrics none() {
    return new ProxyMetrics(new CompositeMeterRegistry());
  }

  /** The REST side's gauges: sessions open, channel clients known. */
  public void rest(Supplier<Number> sessions, Supplier<Number> channelClients) {
    Gauge.builder("dstunnel.rest.sessions.open", sessions).description("REST sessions open now").register(registry);
    Gauge.builder("dstunnel.rest.channel.clients", channelClients)
        .description("REST callback channel clients known (ConsumeClientChannel)").register(registry);
  }

  public void restRelogin() {
    counter("dstunnel.rest.relogins").increment();
  }

  /**
   * A broadcast copy fanned out to {@code backend} ({@code kind} "rest" or "dbx") went unanswered
   * past the broadcast timeout: its connection was closed, the value did not reach that server.
   */
  public void broadcastTimeout(String kind, String backend) {
    counter("dstunnel.broadcast.timeouts", "kind", kind, "backend", backend).increment();
  }

  /**
   * Whether broadcasts take {@code backend} for hung now (1) or not (0), as {@code hung} says:
   * registered when a backend is first taken for hung (registering again is a no-op).
   */
  public void broadcastHung(String kind, String backend, Supplier<Number> hung) {
    Gauge.builder("dstunnel.broadcast.backend.hung", hung)
        .description("1 while broadcasts skip this backend (it left a copy unanswered past the timeout)")
        .tags("kind", kind, "backend", backend).register(registry);
  }

  /** A broadcast copy not sent to {@code backend}: it is hung, or has too many copies under way. */
  public void broadcastSkipped(String kind, String backend) {
    counter("dstunnel.broadcast.skipped", "kind", kind, "backend", backend).increment();
  }

  public void channelFailover() {
    channelFailovers.increment();
  }

  public void callNotRerun() {
    callsNotRerun.increment();
  }

  /** Requests answered so far (tunnel and REST, every status): a leaving node waits for it to stop moving. */
  public double requestsEnded() {
    return registry.find("dstunnel.tunnel.requests").counters().stream().mapToDouble(Counter::count).sum();
  }

  public MeterRegistry registry() {
    return registry;
  }

  public void sessionsOpen(Supplier<Number> open) {
    Gauge.builder("dstunnel.sessions.open", open).description("Sessions open now").register(registry);
  }

  /** The proxy-wide answer budget: bytes held for clients now, and the limit. */
  public void answerBudget(Supplier<Number> used, Supplier<Number> limit) {
    Gauge.builder("dstunnel.answer.budget.used.bytes", used)
        .description("Answer bytes held for clients that have not read them, over all sessions").register(registry);
    Gauge.builder("dstunnel.answer.budget.limit.bytes", limit)
        .description("The proxy-wide budget for unread answer bytes (session.answerBudgetBytes)").register(registry);
  }

  public void backendUp(String backend, Supplier<Number> up) {
    Gauge.builder("dstunnel.backend.up", up).tag("backend", backend)
        .description("1 when the backend takes new sessions").register(registry);
  }

  /** A backend left the config (a reload): its gauge goes, so no alert waits on a server that is not there. */
  public void backendGone(String backend) {
    Gauge gone = registry.find("dstunnel.backend.up").tag("backend", backend).gauge();
    if (gone != null) {
      registry.remove(gone);
    }
  }

  public void sessionOpened() {
    sessionsOpened.increment();
  }

  public void replayCapExceeded() {
    replayCapExceeded.increment();
  }

  public void failover(String reason, String from, String to, long bytes, long nanos) {
    counter("dstunnel.failovers", "reason", reason, "from", from == null ? "none" : from, "to", to).increment();
    replayBytes.record(bytes);
    replayDuration.record(nanos, TimeUnit.NANOSECONDS);
  }

  /** Failovers counted so far, all reasons together. */
  public double failovers() {
    return registry.find("dstunnel.failovers").counters().stream().mapToDouble(Counter::count).sum();
  }

  public void healthCheck(String backend, boolean passed) {
    counter("dstunnel.health.checks", "backend", backend, "result", passed ? "passed" : "failed").increment();
  }

  public void request(String kind, int status) {
    // Hot path: one map lookup by kind, then an array slot by status; no string built per request.
    Counter[] byStatus = requests.computeIfAbsent(kind, k -> new Counter[600]);
    int s = status >= 100 && status < 600 ? status : 599;
    Counter c = byStatus[s];
    if (c == null) {
      c = counter("dstunnel.tunnel.requests", "kind", kind, "status", Integer.toString(s));
      byStatus[s] = c;
    }
    c.increment();
  }

  public void bytesIn(int n) {
    bytesIn.increment(n);
  }

  public void bytesOut(int n) {
    bytesOut.increment(n);
  }

  /** Reads that waited for their bytes so far (with {@link #readWaitMillis}: the status page's latency). */
  public long readWaits() {
    return readWait.count();
  }

  /** The total time reads waited for their bytes so far, in milliseconds. */
  public double readWaitMillis() {
    return readWait.totalTime(TimeUnit.MILLISECONDS);
  }

  public void readWait(long nanos) {
    readWait.record(nanos, TimeUnit.NANOSECONDS);
  }

  private Counter counter(String name, String... tags) {
    String key = name + String.join("\u0000", tags);
    Counter c = counters.get(key);
    if (c == null) {
      c = counters.computeIfAbsent(key, k -> Counter.builder(name).tags(tags).register(registry));
    }
    return c;
  }
}
