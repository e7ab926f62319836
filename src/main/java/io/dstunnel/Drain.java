// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel;

import io.dstunnel.session.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleSupplier;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Waits, for a graceful stop, until every session verticle instance reports nothing left (sessions
 * owed an answer, or sessions still owned in a cluster), or the drain timeout has passed. Each
 * instance answers on its own event loop; they are asked again every 50 ms.
 */
final class Drain {

  private static final Logger LOG = LoggerFactory.getLogger(Dstunnel.class);

  private final Vertx vertx;
  private final int instances;
  private final long deadline;

  Drain(Vertx vertx, int instances, long timeoutMs) {
    this.vertx = vertx;
    this.instances = instances;
    this.deadline = System.nanoTime() + timeoutMs * 1_000_000;
  }

  /** What is left of the drain timeout (at least a second: an answer under way gets that long). */
  long remainingMs() {
    return Math.max(1000, (deadline - System.nanoTime()) / 1_000_000);
  }

  /** Asks {@code address(i)} of every instance until the counts add up to 0, or the deadline. */
  Future<Void> untilNone(IntFunction<String> address, String done, String timedOut) {
    return untilNone(address, done, timedOut, 0);
  }

  /**
   * As {@link #untilNone(IntFunction, String, String)}, but asking on for up to {@code graceMs}
   * past the deadline, with a message that says the deadline has passed ({@code true}; before it,
   * {@code false}): what is left is then moved by force (a leaving cluster node's busy sessions).
   */
  Future<Void> untilNone(IntFunction<String> address, String done, String timedOut, long graceMs) {
    Promise<Void> over = Promise.promise();
    ask(address, done, timedOut, graceMs * 1_000_000, over);
    return over.future();
  }

  /**
   * Waits until {@code count} has not moved for {@code quietMs} (a front has stopped sending this
   * node requests, having seen it not ready), or the deadline.
   */
  Future<Void> untilQuiet(DoubleSupplier count, long quietMs) {
    Promise<Void> over = Promise.promise();
    double[] seen = {count.getAsDouble()};
    long[] since = {System.nanoTime()};
    vertx.setPeriodic(50, id -> {
      long now = System.nanoTime();
      double c = count.getAsDouble();
      if (c != seen[0]) {
        seen[0] = c;
        since[0] = now;
      }
      if (now - since[0] >= quietMs * 1_000_000 || now - deadline >= 0) {
        vertx.cancelTimer(id);
        over.complete();
      }
    });
    return over.future();
  }


  private void ask(IntFunction<String> address, String done, String timedOut, long graceNanos, Promise<Void> over) {
    long late = System.nanoTime() - deadline;
    List<Future<Integer>> counts = new ArrayList<>();
    for (int i = 0; i < instances; i++) {
      counts.add(vertx.eventBus().<Integer>request(address.apply(i), late >= 0, Addresses.LOCAL).map(m -> m.body()));
    }
    Future.all(counts).onComplete(ar -> {
      long left = ar.failed() ? -1 : counts.stream().mapToLong(Future::result).sum();
      if (left == 0) {
        LOG.info(done);
        over.complete();
      } else if (System.nanoTime() - deadline - graceNanos >= 0) {
        LOG.warn(timedOut, left);
        over.complete();
      } else {
        vertx.setTimer(50, t -> ask(address, done, timedOut, graceNanos, over));
      }
    });
  }
}
