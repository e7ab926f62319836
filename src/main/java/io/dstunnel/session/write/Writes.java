// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session.write;

import io.dstunnel.session.message.SessionFailure;
import io.dstunnel.session.message.TunnelReply;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayDeque;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * A session's writes, with backpressure before their bytes are taken: while the backend's write
 * queue is full, writes wait here in order, untaken. When it drains they are taken (logged and
 * written, see {@code Session.take}) and answered; if it does not drain within the wait, the
 * waiting writes are refused ({@link SessionFailure#BACKEND_NOT_READING}) and nothing of them was
 * taken, so a client that retries sends each byte once. A write that was taken is never answered
 * with an error.
 */
public final class Writes {

  static final String REFUSED = "Backend is not reading; write not taken, retry later";

  private record Waiting(Buffer body, Promise<TunnelReply> promise, long timer) { }

  private final Vertx vertx;
  private final long waitMs;
  private final BooleanSupplier full;
  private final Function<Buffer, TunnelReply> take;
  private final ArrayDeque<Waiting> queue = new ArrayDeque<>(1);  // grows when used: most sessions hold none or one

  /** {@code full}: the backend's write queue has no room; {@code take}: logs and writes a body. */
  public Writes(Vertx vertx, long waitMs, BooleanSupplier full, Function<Buffer, TunnelReply> take) {
    this.vertx = vertx;
    this.waitMs = waitMs;
    this.full = full;
    this.take = take;
  }

  /** Takes {@code body} now if the backend has room and no write waits before it; else holds it. */
  public Future<TunnelReply> write(Buffer body) {
    if (queue.isEmpty() && !full.getAsBoolean()) {
      return Future.succeededFuture(take.apply(body));
    }
    return hold(body);
  }

  /** Holds {@code body} untaken until {@link #release} or the wait ends. */
  private Future<TunnelReply> hold(Buffer body) {
    Promise<TunnelReply> promise = Promise.promise();
    long timer = vertx.setTimer(waitMs, t -> refuseAll(TunnelReply.failed(SessionFailure.BACKEND_NOT_READING, REFUSED)));
    queue.add(new Waiting(body, promise, timer));
    return promise.future();
  }

  /** Takes waiting writes in order while the backend has room (all of them once it is gone). */
  public void release() {
    while (!queue.isEmpty() && !full.getAsBoolean()) {
      Waiting w = queue.poll();
      vertx.cancelTimer(w.timer);
      w.promise.complete(take.apply(w.body));
    }
  }

  /** Answers every waiting write with {@code reply}; none of them was taken. */
  public void refuseAll(TunnelReply reply) {
    while (!queue.isEmpty()) {
      Waiting w = queue.poll();
      vertx.cancelTimer(w.timer);
      w.promise.complete(reply);
    }
  }
}
