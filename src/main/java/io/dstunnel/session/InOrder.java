package io.dstunnel.session;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * A session's answer bytes on their way to the client, in order. A {@code BroadcastToChannel}'s
 * answer may wait for the other backends that run it too: it becomes {@code [true]} if one of
 * them took the value, and the bytes after it wait behind it. Without such a wait, bytes go
 * straight through (nothing is queued).
 */
final class InOrder {

  private static final Buffer TOOK = Buffer.buffer("{\"result\":[true]}");

  /** Bytes on their way; a broadcast's answer carries what the other backends will say. */
  private record Out(Buffer bytes, Future<Boolean> elsewhere) {
  }

  private final ArrayDeque<Out> queue = new ArrayDeque<>();
  private Consumer<Buffer> sink;
  private Future<Boolean> nextIsBroadcast;
  private boolean waiting;
  private boolean closed;

  void deliverTo(Consumer<Buffer> sink) {
    this.sink = sink;
  }

  /** The next bytes delivered are a broadcast's answer: {@code elsewhere} says whether another backend took it. */
  void nextWaitsFor(Future<Boolean> elsewhere) {
    nextIsBroadcast = elsewhere;
  }

  void deliver(Buffer bytes) {
    Future<Boolean> elsewhere = nextIsBroadcast;
    nextIsBroadcast = null;
    if (queue.isEmpty() && (elsewhere == null || took(bytes))) {
      sink.accept(bytes);
      return;
    }
    queue.add(new Out(bytes, elsewhere));
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
      sink.accept(tookElsewhere && !took(o.bytes()) ? TOOK.copy() : o.bytes());
    }
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
