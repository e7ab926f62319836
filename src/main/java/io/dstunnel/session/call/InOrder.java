// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session.call;

import io.dstunnel.session.answer.AnswerStream.Piece;
import io.dstunnel.session.answer.AnswerStream;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayDeque;

/**
 * A session's answer bytes on their way to the client, in order. A {@code BroadcastToChannel}'s
 * answer may wait for the other backends that run it too: it becomes {@code [true]} if one of
 * them took the value, and the bytes after it wait behind it. Without such a wait, bytes go
 * straight through (nothing is queued).
 */
final class InOrder {

  private static final Buffer TOOK = Buffer.buffer("{\"result\":[true]}");

  /** Bytes on their way; a broadcast's answer carries what the other backends will say. */
  private record Out(Buffer bytes, Piece piece, Future<Boolean> elsewhere) {
  }

  private final ArrayDeque<Out> queue = new ArrayDeque<>(1);  // grows when used: most sessions hold none or one
  private AnswerStream.Sink sink;
  private Future<Boolean> nextIsBroadcast;
  private boolean waiting;
  private boolean closed;

  void deliverTo(AnswerStream.Sink sink) {
    this.sink = sink;
  }

  /** The next bytes delivered are a broadcast's answer: {@code elsewhere} says whether another backend took it. */
  void nextWaitsFor(Future<Boolean> elsewhere) {
    nextIsBroadcast = elsewhere;
  }

  void deliver(Buffer bytes, Piece piece) {
    Future<Boolean> elsewhere = nextIsBroadcast;
    nextIsBroadcast = null;
    if (queue.isEmpty() && (elsewhere == null || took(bytes))) {
      sink.accept(bytes, piece);
      return;
    }
    queue.add(new Out(bytes, piece, elsewhere));
    flush();
  }

  private void flush() {
    while (!waiting && !closed && !queue.isEmpty()) {
      Out o = queue.peek();
      if (o.elsewhere() != null && !took(o.bytes()) && !o.elsewhere().isComplete()) {
        waiting = true;
        o.elsewhere().onComplete(ar -> {
          waiting = false;
          flush();
        });
        return;
      }
      queue.poll();
      boolean tookElsewhere = o.elsewhere() != null && o.elsewhere().succeeded() && o.elsewhere().result();
      sink.accept(tookElsewhere && !took(o.bytes()) ? TOOK.copy() : o.bytes(), o.piece());
    }
  }

  /** Whether answer bytes wait here (behind a broadcast's answer): the client is owed them. */
  boolean holding() {
    return !queue.isEmpty();
  }

  /** The session ended: nothing more is handed on. */
  void close() {
    closed = true;
    queue.clear();
  }

  private static boolean took(Buffer answer) {
    return answer.length() < 64 && answer.toString().replace(" ", "").equals("{\"result\":[true]}");
  }
}
