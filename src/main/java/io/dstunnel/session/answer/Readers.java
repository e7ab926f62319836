// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session.answer;

import io.dstunnel.session.message.Progress;
import io.dstunnel.session.message.SessionFailure;
import io.dstunnel.session.message.TunnelReply;
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
 * so that bytes a read could not deliver can be taken back in order. Also where each answer ends
 * in that stream, so that how far the client has got ({@link Progress}) is known at any offset.
 */
final class Readers {

  /** A read waiting for bytes. */
  private record Waiting(long readId, int max, Promise<TunnelReply> promise, long timer) { }

  private final Vertx vertx;
  private final IntConsumer afterTake;
  private final AnswerQueue answers = new AnswerQueue();
  private final ArrayDeque<Waiting> waiting = new ArrayDeque<>(1);  // grows when used: most sessions hold none or one
  private long given;
  /** Bytes added to the stream so far (handed out or waiting). */
  private long added;
  /** Where answers and pushes end in the stream, not yet settled: {end, 1 for an answer / 0 for a push}. */
  private final ArrayDeque<long[]> ends = new ArrayDeque<>(1);  // grows when used: most sessions hold none or one
  /** Answers that end at or before {@link #settledEnd}, which no read can give back any more. */
  private long settledAnswers;
  private long settledEnd;

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

  /** New answer bytes ({@code piece}: what they are): the oldest waiting reads get them first. */
  void add(Buffer bytes, AnswerStream.Piece piece) {
    answers.add(bytes);
    added += bytes.length();
    if (piece != AnswerStream.Piece.PART) {
      ends.add(new long[] {added, piece == AnswerStream.Piece.END ? 1 : 0});
    }
    serve();
  }

  /** Answer bytes handed out so far. */
  long given() {
    return given;
  }

  /** A session taken over from a copy: the client has {@code p}, and the stream goes on from there. */
  void startAt(Progress p) {
    given = added = p.bytes();
    settledAnswers = p.answers();
    settledEnd = p.bytes() - p.partBytes();
    ends.clear();
  }

  /**
   * How far the client has got once it has the first {@code offset} bytes of the answer stream
   * (at least what no read can give back any more: the bytes handed out before the last read).
   */
  Progress progressAt(long offset) {
    long answersDone = settledAnswers;
    long lastEnd = settledEnd;
    for (long[] end : ends) {
      if (end[0] > offset) {
        break;
      }
      answersDone += end[1];
      lastEnd = end[0];
    }
    return new Progress(answersDone, offset - lastEnd, offset);
  }

  /** Up to {@code max} bytes now (there are some), with their offset in the answer stream. */
  TunnelReply take(int max) {
    settle();
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

  /** What was handed out before this read can no longer be given back: its ends are counted. */
  private void settle() {
    while (!ends.isEmpty() && ends.peek()[0] <= given) {
      long[] end = ends.poll();
      settledAnswers += end[1];
      settledEnd = end[0];
    }
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
    ends.clear();
  }

  private void serve() {
    while (!answers.isEmpty() && !waiting.isEmpty()) {
      Waiting w = waiting.poll();
      vertx.cancelTimer(w.timer);
      w.promise.tryComplete(take(w.max));
    }
  }
}
