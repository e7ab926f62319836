// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.support;

import io.dstunnel.framing.DbxMessages;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetSocket;
import java.util.concurrent.ConcurrentLinkedDeque;

/** DBX straight to a demo server, no proxy: filter query, connect, then one call at a time. */
public final class DirectDbx {

  private final NetSocket socket;
  private final DbxMessages messages = new DbxMessages();
  private final ConcurrentLinkedDeque<Promise<JsonObject>> waiting = new ConcurrentLinkedDeque<>();

  private DirectDbx(NetSocket socket) {
    this.socket = socket;
    socket.handler(chunk -> messages.feed(chunk, message ->
        waiting.poll().complete(message.length() == 5 ? new JsonObject() : new JsonObject(message))));
  }

  public static DirectDbx connect(Vertx vertx, int port) {
    DirectDbx d = new DirectDbx(Sockets.connect(vertx, port).await());
    d.call(Buffer.buffer(new byte[] {5, 5, 5, 5, 5}));
    d.call(Buffer.buffer("{\"method\":\"connect\",\"params\":[{\"DriverName\":\"Datasnap\"}]}"));
    return d;
  }

  /** Prepares and executes {@code method} with {@code args}: its first result value. */
  public Object run(String method, Object... args) {
    int h = call(new JsonObject().put("method", "prepare").put("params", new JsonArray().add(-1).add(false)
        .add("DSServerMethod").add(method)).toBuffer()).getJsonArray("result").getInteger(0);
    return call(new JsonObject().put("method", "execute").put("params", new JsonArray().add(h)
        .add(new JsonArray(java.util.List.of(args)))).toBuffer()).getJsonArray("result").getValue(0);
  }

  private JsonObject call(Buffer message) {
    Promise<JsonObject> p = Promise.promise();
    waiting.add(p);
    socket.write(message);
    return p.future().await();
  }

  public void close() {
    socket.close();
  }
}
