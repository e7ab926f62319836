// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session.link;

import io.vertx.core.Vertx;
import java.util.function.BooleanSupplier;

/**
 * Catches a backend that takes a request and never answers: with an answer timeout set, while the
 * session is owed an answer, a timer checks that some answer byte came within the timeout since
 * the request (or since the last answer byte); if none did, {@code onHang} runs. At most one
 * timer per session, set when the session starts to be owed, never per byte.
 */
public final class HangWatch {

  private final Vertx vertx;
  private final long timeoutMs;
  private final BooleanSupplier owed;
  private final Runnable onHang;
  private long timer = -1;
  private long lastProgress;
  private long lastWrite;
  private long owedSince;

  /** {@code owed} tells whether the session (still attached) is owed an answer now. */
  public HangWatch(Vertx vertx, long timeoutMs, BooleanSupplier owed, Runnable onHang) {
    this.vertx = vertx;
    this.timeoutMs = timeoutMs;
    this.owed = owed;
    this.onHang = onHang;
  }


  /** A write went to the backend; {@code wasOwed}: the session was owed an answer before it. */
  public void wrote(boolean wasOwed) {
    lastWrite = System.nanoTime();
    if (!wasOwed) {
      owedSince = lastWrite;
    }
    arm(timeoutMs);
  }

  /** A new connection was given the whole log: everything unanswered is owed from now. */
  public void replayed() {
    lastWrite = System.nanoTime();
    owedSince = lastWrite;
    lastProgress = lastWrite - 1;
    arm(timeoutMs);
  }

  /**
   * The proxy had paused the backend (a slow reader, the answer budget) and lets it read again:
   * the time paused was not the backend's, so the wait for an answer starts over.
   */
  public void resumed() {
    lastProgress = System.nanoTime();
    arm(timeoutMs);
  }

  /** Answer bytes arrived. */
  public void progress() {
    lastProgress = System.nanoTime();
  }

  /** No answer byte since the last write (what "owed" means when requests cannot be counted). */
  public boolean silentSinceLastWrite() {
    return lastProgress - lastWrite < 0;
  }

  public void cancel() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
  }

  private void arm(long delayMs) {
    if (timeoutMs <= 0 || timer >= 0) {
      return;
    }
    timer = vertx.setTimer(Math.max(1, delayMs), t -> {
      timer = -1;
      check();
    });
  }

  private void check() {
    if (!owed.getAsBoolean()) {
      return;
    }
    long waitedMs = (System.nanoTime() - Math.max(lastProgress, owedSince)) / 1_000_000;
    if (waitedMs < timeoutMs) {
      arm(timeoutMs - waitedMs);
      return;
    }
    onHang.run();
  }
}
