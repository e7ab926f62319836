// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.channels;

import io.dstunnel.framing.DbxMessages;
import io.dstunnel.framing.FramingException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetSocket;
import java.util.ArrayDeque;

/**
 * dstunnel's own DBX connection to one backend, on which it runs {@code BroadcastToChannel} for
 * channels on servers other than the caller's: filter query, {@code connect} with the configured
 * properties, one {@code prepare}, then executes, each answered in order. At most
 * {@link BroadcastPeers#MAX_PENDING} broadcasts wait on one; closing it fails them all (the
 * broadcaster closes one that let a broadcast time out). Used from the broadcaster's event loop
 * only.
 */
final class PeerConnection {

  private static final Buffer FILTER_QUERY = Buffer.buffer(new byte[] {5, 5, 5, 5, 5});

  private final NetSocket socket;
  private final DbxMessages messages = new DbxMessages();
  private final ArrayDeque<Promise<Buffer>> waiting = new ArrayDeque<>();
  private boolean closed;
  private Future<Integer> handle;

  PeerConnection(NetSocket socket, JsonObject connectProperties) {
    this.socket = socket;
    socket.handler(this::onBytes);
    socket.closeHandler(v -> fail("connection closed"));
    socket.exceptionHandler(err -> socket.close());
    call(FILTER_QUERY);
    call(new JsonObject().put("method", "connect").put("params", new JsonArray().add(connectProperties)).toBuffer());
    handle = call(new JsonObject().put("method", "prepare").put("params", new JsonArray().add(-1).add(false)
        .add("DSServerMethod").add("DSAdmin.BroadcastToChannel")).toBuffer())
        .map(answer -> new JsonObject(answer).getJsonArray("result").getInteger(0));
  }

  /** Done once the server answered the filter query, {@code connect} and {@code prepare}. */
  Future<Void> ready() {
    return handle.mapEmpty();
  }

  boolean closed() {
    return closed;
  }

  /** Runs the broadcast here: whether a channel of that name on this server took it. */
  Future<Boolean> broadcast(String channel, Object value) {
    return handle.compose(h -> call(new JsonObject().put("method", "execute").put("params", new JsonArray().add(h)
            .add(new JsonArray().add(channel).add(value))).toBuffer()))
        .map(answer -> {
          JsonArray result = new JsonObject(answer).getJsonArray("result");
          return result != null && Boolean.TRUE.equals(result.getValue(0));
        });
  }

  void close() {
    socket.close();
  }

  private Future<Buffer> call(Buffer message) {
    if (closed) {
      return Future.failedFuture("connection closed");
    }
    Promise<Buffer> answer = Promise.promise();
    waiting.add(answer);
    socket.write(message);
    return answer.future();
  }

  private void onBytes(Buffer chunk) {
    try {
      messages.feed(chunk, message -> {
        Promise<Buffer> p = waiting.poll();
        if (p != null) {
          p.complete(message);
        }
      });
    } catch (FramingException e) {
      socket.close();
    }
  }

  private void fail(String why) {
    closed = true;
    Promise<Buffer> p;
    while ((p = waiting.poll()) != null) {
      p.tryFail(why);
    }
  }
}
