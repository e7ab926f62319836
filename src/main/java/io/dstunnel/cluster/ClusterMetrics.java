package io.dstunnel.cluster;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.function.Supplier;

/** The cluster's meters: members, sessions adopted and handed over, forwarded requests, copy failures. */
public final class ClusterMetrics {

  private final Counter adopted;
  private final Counter handedOver;
  private final Counter forwarded;
  private final Counter copyFailures;

  public ClusterMetrics(MeterRegistry registry) {
    adopted = Counter.builder("dstunnel.cluster.sessions.adopted")
        .description("Sessions this node took over from their copy (owner dead, silent or leaving)").register(registry);
    handedOver = Counter.builder("dstunnel.cluster.sessions.handed.over")
        .description("Sessions this node handed to another node when leaving").register(registry);
    forwarded = Counter.builder("dstunnel.cluster.requests.forwarded")
        .description("Requests this node forwarded to the session's owner").register(registry);
    copyFailures = Counter.builder("dstunnel.cluster.copy.failures")
        .description("Copies a backup node did not acknowledge").register(registry);
    this.registry = registry;
  }

  private final MeterRegistry registry;

  public void members(Supplier<Number> count) {
    Gauge.builder("dstunnel.cluster.members", count).description("Members of the cluster").register(registry);
  }

  void adopted() {
    adopted.increment();
  }

  void handedOver() {
    handedOver.increment();
  }

  void forwarded() {
    forwarded.increment();
  }

  void copyFailed() {
    copyFailures.increment();
  }
}
