package io.dstunnel.session;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayDeque;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * Backpressure on a session's writes, before their bytes are taken: while the backend's write
 * queue is full, writes wait here in order, untaken. When it drains they are taken (logged and
 * written) and answered; if it does not drain within the wait, the waiting writes are refused
 * with 503 and nothing of them was taken, so a client that retries sends each byte once. A write
 * that was taken is never answered with an error.
 */
final class WriteGate {

  static final String REFUSED = "Backend is not reading; write not taken, retry later";

  private record Waiting(Buffer body, Promise<TunnelReply> promise, long timer) { }

  private final Vertx vertx;
  private final long waitMs;
  private final ArrayDeque<Waiting> queue = new ArrayDeque<>();

  WriteGate(Vertx vertx, long waitMs) {
    this.vertx = vertx;
    this.waitMs = waitMs;
  }

  /** Writes are waiting: a new one must queue behind them. */
  boolean busy() {
    return !queue.isEmpty();
  }

  /** Holds {@code body} untaken until {@link #release} or the wait ends. */
  Future<TunnelReply> hold(Buffer body) {
    Promise<TunnelReply> promise = Promise.promise();
    long timer = vertx.setTimer(waitMs, t -> refuseAll(TunnelReply.error(503, REFUSED)));
    queue.add(new Waiting(body, promise, timer));
    return promise.future();
  }

  /** Takes waiting writes in order through {@code take} while {@code full} says there is room. */
  void release(BooleanSupplier full, Function<Buffer, TunnelReply> take) {
    while (!queue.isEmpty() && !full.getAsBoolean()) {
      Waiting w = queue.poll();
      vertx.cancelTimer(w.timer);
      w.promise.complete(take.apply(w.body));
    }
  }

  /** Answers every waiting write with {@code reply}; none of them was taken. */
  void refuseAll(TunnelReply reply) {
    while (!queue.isEmpty()) {
      Waiting w = queue.poll();
      vertx.cancelTimer(w.timer);
      w.promise.complete(reply);
    }
  }
}
