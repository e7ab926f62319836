// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.demo;

import io.dstunnel.framing.DbxMessages;
import io.dstunnel.framing.FramingException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetSocket;
import java.util.HashMap;
import java.util.Map;

/**
 * One connection to the demo server: frames the client's messages and answers each in order
 * (a SlowEcho delays the answers after it too, as a single-threaded DataSnap server would).
 * Handles are per connection and deterministic, which is what makes replay onto a standby work.
 * A connection that executes {@code DSAdmin.ConnectClientChannel} becomes a callback channel
 * ({@link DemoChannels}): pushes go down it at any time, and the client's answers to them get none.
 */
final class DemoConnection {

  private static final Buffer FILTER_ANSWER = Buffer.buffer(new byte[] {6, 0, 0, 0, 0});

  private final Vertx vertx;
  private final NetSocket socket;
  private final String name;
  private final DemoChannels channels;
  private final DbxMessages messages = new DbxMessages();
  private Future<Void> tail = Future.succeededFuture();
  private final Map<Integer, String> commands = new HashMap<>();
  private int nextCommand = 1;
  private long total;

  DemoConnection(Vertx vertx, NetSocket socket, String name, DemoChannels channels) {
    this.vertx = vertx;
    this.channels = channels;
    this.socket = socket;
    this.name = name;
  }

  void start() {
    socket.handler(this::onBytes);
    // A client that resets is no error of the server's: the connection just ends.
    socket.exceptionHandler(err -> socket.close());
  }

  private void onBytes(Buffer chunk) {
    try {
      messages.feed(chunk, message -> {
        // A channel's client answers each push with {"response":[...]}: the server answers nothing.
        if (isPushResponse(message)) {
          return;
        }
        tail = tail.compose(v -> answer(message)).compose(reply -> {
          Future<Void> sent = socket.write(reply);
          return isDisconnect(message) ? sent.compose(v -> socket.close()) : sent;
        });
      });
    } catch (FramingException e) {
      socket.write(error(1, "malformed stream: " + e.getMessage())).onComplete(v -> socket.close());
    }
  }

  private Future<Buffer> answer(Buffer message) {
    if (message.length() == 5 && message.getByte(0) == 5) {
      return Future.succeededFuture(FILTER_ANSWER);
    }
    DataBlocks.Block block = DataBlocks.find(message);
    if (block != null) {
      long sum = 0;
      for (int i = 0; i < block.length(); i++) {
        sum += message.getByte(block.start() + i) & 0xFF;
      }
      return Future.succeededFuture(result(new JsonArray().add(block.length()).add(sum & 0xFFFFFFFFL)));
    }
    JsonObject request;
    try {
      request = new JsonObject(message);
    } catch (RuntimeException e) {
      return Future.succeededFuture(error(1, "malformed message"));
    }
    String method = request.getString("method", "");
    JsonArray params = request.getJsonArray("params", new JsonArray());
    try {
      return switch (method) {
        case "connect" -> Future.succeededFuture(result(new JsonArray().add(1).add("DataSnap").add(2)));
        case "prepare" -> {
          int handle = nextCommand++;
          commands.put(handle, params.getString(3));
          yield Future.succeededFuture(result(new JsonArray().add(handle)));
        }
        case "execute" -> execute(commands.get(params.getInteger(0)),
            params.size() > 1 && params.getValue(1) instanceof JsonArray a ? a : new JsonArray());
        case "command_close", "disconnect" -> Future.succeededFuture(result(new JsonArray()));
        default -> Future.succeededFuture(error(2, "unknown method " + method));
      };
    } catch (RuntimeException e) {
      return Future.succeededFuture(error(4, "bad parameters for " + method));
    }
  }

  private Future<Buffer> execute(String command, JsonArray args) {
    if (command == null) {
      return Future.succeededFuture(error(3, "unknown command handle"));
    }
    switch (command) {
      case "TServerMethods1.EchoString":
        return Future.succeededFuture(result(new JsonArray().add(args.getString(0) + " (Server " + name + ")")));
      case "TServerMethods1.ReverseString":
        return Future.succeededFuture(result(new JsonArray().add(
            new StringBuilder(args.getString(0)).reverse().toString())));
      case "TServerMethods1.Increment":
        total += args.getLong(0);
        return Future.succeededFuture(result(new JsonArray().add(total)));
      case "TServerMethods1.SlowEcho": {
        long ms = Math.max(1, args.getLong(0));
        Buffer reply = result(new JsonArray().add(args.getString(1) + " (Server " + name + ")"));
        return vertx.timer(ms).map(reply);
      }
      case "TServerMethods1.EchoJson":
        return Future.succeededFuture(result(new JsonArray().add(args.getValue(0))));
      case "TServerMethods1.Blob":
        return Future.succeededFuture(blob(args.getInteger(0)));
      case "DSAdmin.ConnectClientChannel":
        // Answered only when the channel closes: the connection is a channel until then.
        return channels.connect(socket, args).recover(err -> Future.succeededFuture(result(new JsonArray().add(false))));
      case "DSAdmin.BroadcastToChannel":
        return Future.succeededFuture(result(new JsonArray().add(channels.broadcast(args.getString(0), args.getValue(1)))));
      case "DSAdmin.NotifyCallback":
        return Future.succeededFuture(result(new JsonArray().add(
            channels.notify(args.getString(0), args.getString(1), args.getValue(2)))));
      case "DSAdmin.CloseClientChannel":
        return Future.succeededFuture(result(new JsonArray().add(
            channels.close(args.getString(0), args.size() > 1 ? args.getString(1) : null))));
      default:
        return Future.succeededFuture(error(3, "unknown server method " + command));
    }
  }

  /** {@code {"result":[{"data":[n,<n bytes>]}]}}, byte i being {@code i % 251}. */
  static Buffer blob(int n) {
    Buffer b = Buffer.buffer(n + 32).appendString("{\"result\":[{\"data\":[" + n + ",");
    for (int i = 0; i < n; i++) {
      b.appendByte((byte) (i % 251));
    }
    return b.appendString("]}]}");
  }

  private static boolean isPushResponse(Buffer message) {
    return message.length() > 12 && message.getString(0, 12).equals("{\"response\":");
  }

  private static boolean isDisconnect(Buffer message) {
    return message.length() < 200 && message.toString().contains("\"disconnect\"");
  }

  static Buffer result(JsonArray values) {
    return new JsonObject().put("result", values).toBuffer();
  }

  private static Buffer error(int code, String message) {
    return new JsonObject().put("error", new JsonObject().put("name", "EDBXError").put("code", code)
        .put("message", message)).toBuffer();
  }
}
