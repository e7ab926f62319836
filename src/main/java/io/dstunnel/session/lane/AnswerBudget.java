// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session.lane;

import io.vertx.core.Context;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The proxy-wide budget for answer bytes that clients have not read yet (held partial answers
 * and answers waiting for a read, over all sessions). Each session is bounded on its own; this
 * bounds their sum, so that many slow readers cannot fill the heap. Past the budget, sessions
 * pause their backends as they take more bytes (nothing is dropped: they wait) and resume once
 * reads have brought the total back under three quarters of it. Shared by all session verticles.
 */
public final class AnswerBudget {

  private final long limit;
  private final AtomicLong used = new AtomicLong();
  private final ConcurrentLinkedQueue<Runnable> waiting = new ConcurrentLinkedQueue<>();

  /** {@code limit} bytes, or 0 for no budget. */
  public AnswerBudget(long limit) {
    this.limit = limit;
  }

  /** Unread answer bytes held now, over all sessions. */
  public long used() {
    return used.get();
  }

  public long limit() {
    return limit;
  }

  /** A session now holds {@code delta} more (or fewer) bytes. */
  public void adjust(long delta) {
    long now = used.addAndGet(delta);
    if (delta < 0 && now <= limit / 4 * 3 && !waiting.isEmpty()) {
      wake();
    }
  }

  /** Whether the budget is spent. */
  public boolean spent() {
    return limit > 0 && used.get() > limit;
  }

  /** Runs {@code resume} on {@code context} once the budget has room again. */
  public void whenRoom(Context context, Runnable resume) {
    waiting.add(() -> context.runOnContext(v -> resume.run()));
    if (!spent()) {
      wake();
    }
  }

  private void wake() {
    for (Runnable r; (r = waiting.poll()) != null; ) {
      r.run();
    }
  }
}
