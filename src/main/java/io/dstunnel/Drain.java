// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel;

import io.dstunnel.session.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleSupplier;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Waits, for a graceful stop, until every session verticle instance reports nothing left (sessions
 * owed an answer, or sessions still owned in a cluster), or the drain timeout has passed. Each
 * instance answers on its own event loop; they are asked again every 50 ms. The log says what it
 * waits for and until when, how much is left as it goes (at most a line a second), and how it
 * ended: an operator who pressed Ctrl-C knows why the process has not exited yet.
 */
final class Drain {

  private static final Logger LOG = LoggerFactory.getLogger(Dstunnel.class);

  /** The least time between two lines saying how much is left. */
  private static final long PROGRESS_EVERY_NANOS = 1_000_000_000L;

  private final Vertx vertx;
  private final int instances;
  private final long timeoutMs;
  private final long started;
  private final long deadline;

  Drain(Vertx vertx, int instances, long timeoutMs) {
    this.vertx = vertx;
    this.instances = instances;
    this.timeoutMs = timeoutMs;
    this.started = System.nanoTime();
    this.deadline = started + timeoutMs * 1_000_000;
  }

  /** What is left of the drain timeout (at least a second: an answer under way gets that long). */
  long remainingMs() {
    return Math.max(1000, (deadline - System.nanoTime()) / 1_000_000);
  }

  /**
   * Asks {@code address(i)} of every instance until the counts add up to 0, or the deadline.
   * {@code what} says what the sessions counted are waited for ("owed an answer"); {@code done} is
   * logged when none is left, {@code timedOut} (with the count for its {@code {}}) at the deadline.
   */
  Future<Void> untilNone(IntFunction<String> address, String what, String done, String timedOut) {
    return untilNone(address, what, done, timedOut, 0);
  }

  /**
   * As {@link #untilNone(IntFunction, String, String, String)}, but asking on for up to
   * {@code graceMs} past the deadline, with a message that says the deadline has passed
   * ({@code true}; before it, {@code false}): what is left is then moved by force (a leaving
   * cluster node's busy sessions).
   */
  Future<Void> untilNone(IntFunction<String> address, String what, String done, String timedOut, long graceMs) {
    Promise<Void> over = Promise.promise();
    ask(new Wait(address, what, done, timedOut, graceMs * 1_000_000), over);
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

  /** One {@link #untilNone} under way: what it asks, what it logs, and what it last logged. */
  private static final class Wait {
    final IntFunction<String> address;
    final String what;
    final String done;
    final String timedOut;
    final long graceNanos;
    long lastLeft = -2;
    long lastLogged;

    Wait(IntFunction<String> address, String what, String done, String timedOut, long graceNanos) {
      this.address = address;
      this.what = what;
      this.done = done;
      this.timedOut = timedOut;
      this.graceNanos = graceNanos;
    }
  }

  private void ask(Wait wait, Promise<Void> over) {
    long late = System.nanoTime() - deadline;
    List<Future<Integer>> counts = new ArrayList<>();
    for (int i = 0; i < instances; i++) {
      counts.add(vertx.eventBus().<Integer>request(wait.address.apply(i), late >= 0, Addresses.LOCAL).map(m -> m.body()));
    }
    Future.all(counts).onComplete(ar -> {
      long left = ar.failed() ? -1 : counts.stream().mapToLong(Future::result).sum();
      long now = System.nanoTime();
      if (left == 0) {
        LOG.info("{} ({} ms)", wait.done, (now - started) / 1_000_000);
        over.complete();
      } else if (now - deadline - wait.graceNanos >= 0) {
        LOG.warn(wait.timedOut, left);
        over.complete();
      } else {
        progress(wait, left, now);
        vertx.setTimer(50, t -> ask(wait, over));
      }
    });
  }

  /** The first count says what the drain waits for and until when; later ones, what is left. */
  private void progress(Wait wait, long left, long now) {
    long end = deadline + wait.graceNanos;
    if (wait.lastLeft == -2) {
      String limit = "session.drainTimeoutMs " + timeoutMs + " ms"
          + (wait.graceNanos > 0 ? " + " + wait.graceNanos / 1_000_000 + " ms to hand busy sessions over" : "");
      LOG.info("draining: waiting for {} {}, until {} at the latest ({})", sessions(left), wait.what,
          LocalTime.now().plus(Math.max(0, end - now), ChronoUnit.NANOS).truncatedTo(ChronoUnit.SECONDS), limit);
      wait.lastLogged = now;
    } else if (left != wait.lastLeft && now - wait.lastLogged >= PROGRESS_EVERY_NANOS) {
      LOG.info("draining: still {} {}, {} s at most", sessions(left), wait.what, Math.max(0, (end - now) / 1_000_000_000));
      wait.lastLogged = now;
    }
    wait.lastLeft = left;
  }

  /** "1 session", "3 sessions"; -1 (an instance did not answer): "the sessions". */
  private static String sessions(long n) {
    return n < 0 ? "the sessions" : n == 1 ? "1 session" : n + " sessions";
  }
}
