package io.dstunnel.session;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.function.IntConsumer;

/**
 * The read side of a session: answer bytes waiting for a read, reads waiting for bytes (long
 * polls, each answered "no data yet" after its slice), and the offset of what has been handed out,
 * so that bytes a read could not deliver can be taken back in order.
 */
final class Readers {

  /** A read waiting for bytes. */
  private record Waiting(long readId, int max, Promise<TunnelReply> promise, long timer) { }

  private final Vertx vertx;
  private final IntConsumer afterTake;
  private final AnswerQueue answers = new AnswerQueue();
  private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
  private long given;

  /** {@code afterTake} gets the count of every handout (the session logs it, may resume its backend). */
  Readers(Vertx vertx, IntConsumer afterTake) {
    this.vertx = vertx;
    this.afterTake = afterTake;
  }

  /** Bytes waiting to be read. */
  long pending() {
    return answers.size();
  }

  int waitingReads() {
    return waiting.size();
  }

  /** New answer bytes: the oldest waiting reads get them first. */
  void add(Buffer bytes) {
    answers.add(bytes);
    serve();
  }

  /** Up to {@code max} bytes now (there are some), with their offset in the answer stream. */
  TunnelReply take(int max) {
    Buffer out = answers.take(max);
    long offset = given;
    given += out.length();
    afterTake.accept(out.length());
    return TunnelReply.data(out, offset);
  }

  /** Holds a read until bytes arrive or its slice ends. */
  Future<TunnelReply> hold(int max, long readId, long sliceMs) {
    Promise<TunnelReply> promise = Promise.promise();
    long timer = vertx.setTimer(sliceMs, t -> {
      if (waiting.removeIf(w -> w.promise == promise)) {
        promise.tryComplete(TunnelReply.noDataYet());
      }
    });
    waiting.add(new Waiting(readId, max, promise, timer));
    return promise.future();
  }

  /** Forgets a held read whose HTTP request is gone. */
  void cancel(long readId) {
    for (Iterator<Waiting> it = waiting.iterator(); it.hasNext(); ) {
      Waiting w = it.next();
      if (w.readId == readId) {
        it.remove();
        vertx.cancelTimer(w.timer);
        w.promise.tryComplete(TunnelReply.noDataYet());
      }
    }
  }

  /** Takes back bytes handed out last (and only those): true if they were. */
  boolean unread(Buffer bytes, long offset) {
    if (offset + bytes.length() != given) {
      return false;
    }
    answers.pushBack(bytes);
    given -= bytes.length();
    serve();
    return true;
  }

  /** Answers every waiting read with an error. */
  void failAll(SessionFailure failure, String message) {
    while (!waiting.isEmpty()) {
      Waiting w = waiting.poll();
      vertx.cancelTimer(w.timer);
      w.promise.tryComplete(TunnelReply.failed(failure, message));
    }
  }

  void clear() {
    answers.clear();
  }

  private void serve() {
    while (!answers.isEmpty() && !waiting.isEmpty()) {
      Waiting w = waiting.poll();
      vertx.cancelTimer(w.timer);
      w.promise.tryComplete(take(w.max));
    }
  }
}
