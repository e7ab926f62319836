// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.function.Supplier;

/**
 * The cluster's meters: members, sessions adopted and handed over, forwarded requests, the copies'
 * steps and messages, copy and adoption failures.
 */
public final class ClusterMetrics {

  private final Counter adopted;
  private final Counter handedOver;
  private final Counter forwarded;
  private final Counter copyFailures;
  private final Counter copiesExpired;
  private final Counter adoptionFailures;
  private final Counter unreachable;
  private final Counter cutOff;
  private final Counter lateAnswers;
  private final Counter copySteps;
  private final Counter copyMessages;

  public ClusterMetrics(MeterRegistry registry) {
    adopted = Counter.builder("dstunnel.cluster.sessions.adopted")
        .description("Sessions this node took over from their copy (owner dead, silent or leaving)").register(registry);
    handedOver = Counter.builder("dstunnel.cluster.sessions.handed.over")
        .description("Sessions this node handed to another node when leaving").register(registry);
    forwarded = Counter.builder("dstunnel.cluster.requests.forwarded")
        .description("Requests this node forwarded to the session's owner").register(registry);
    copyFailures = Counter.builder("dstunnel.cluster.copy.failures")
        .description("Copies a backup node did not acknowledge").register(registry);
    copiesExpired = Counter.builder("dstunnel.cluster.copies.expired")
        .description("Copies dropped because their owner said nothing of them past the idle timeout").register(registry);
    adoptionFailures = Counter.builder("dstunnel.cluster.adoptions.failed")
        .description("Adoptions of a session from its copy that failed (no backend, a replay that failed)")
        .register(registry);
    unreachable = Counter.builder("dstunnel.cluster.requests.unreachable")
        .description("Requests answered 404 because the session's owner was gone and no copy took it over")
        .register(registry);
    cutOff = Counter.builder("dstunnel.cluster.requests.cut.off")
        .description("Requests refused (503) because of a partition, the session kept: the session's owner and copy "
            + "holder could not reach each other, or a member out of reach may own a session no other member knows")
        .register(registry);
    lateAnswers = Counter.builder("dstunnel.cluster.answers.late")
        .description("Answers to reads this node relayed that came after the read's deadline (this node was paused): "
            + "not passed on, the read asked again").register(registry);
    copySteps = Counter.builder("dstunnel.cluster.copy.steps")
        .description("Steps this node's sessions sent their copy holders (a write's copy, a hand-out, a check)")
        .register(registry);
    copyMessages = Counter.builder("dstunnel.cluster.copy.messages")
        .description("Messages those steps took (the steps for one holder in one round of an event loop go in one)")
        .register(registry);
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

  void copyExpired() {
    copiesExpired.increment();
  }

  void unreachable() {
    unreachable.increment();
  }

  void cutOff() {
    cutOff.increment();
  }

  void lateAnswer() {
    lateAnswers.increment();
  }

  /** {@code steps} steps sent to a copy holder, in {@code messages} messages. */
  void copySent(int steps, int messages) {
    copySteps.increment(steps);
    copyMessages.increment(messages);
  }

  /**
   * The port of a node that relayed a read's answer was probed, its notice not in when the
   * session's next read came through another node: {@code accepts} (with the cluster's key, the
   * TLS handshake completed), {@code refuses} (the process is gone) or {@code unknown}.
   */
  void relayChecked(PortProbe.State port) {
    Counter.builder("dstunnel.cluster.relay.probes").tag("result", port.name().toLowerCase(java.util.Locale.ROOT))
        .description("Probes of a node that relayed a read's answer it had not yet said it passed on")
        .register(registry).increment();
  }

  void adoptionFailed() {
    adoptionFailures.increment();
  }
}
