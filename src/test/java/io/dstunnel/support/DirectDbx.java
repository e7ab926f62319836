package io.dstunnel.support;

import io.dstunnel.framing.DbxFramer;
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
  private final DbxFramer framer = new DbxFramer();
  private final ConcurrentLinkedDeque<Promise<JsonObject>> waiting = new ConcurrentLinkedDeque<>();
  private Buffer partial = Buffer.buffer();

  private DirectDbx(NetSocket socket) {
    this.socket = socket;
    socket.handler(chunk -> {
      int[] start = {0};
      framer.feed(chunk, end -> {
        partial.appendBuffer(chunk, start[0], end - start[0]);
        start[0] = end;
        Buffer message = partial;
        partial = Buffer.buffer();
        Promise<JsonObject> p = waiting.poll();
        p.complete(message.length() == 5 ? new JsonObject() : new JsonObject(message));
      });
      partial.appendBuffer(chunk, start[0], chunk.length() - start[0]);
    });
  }

  public static DirectDbx connect(Vertx vertx, int port) {
    DirectDbx d = new DirectDbx(vertx.createNetClient().connect(port, "127.0.0.1").await());
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
