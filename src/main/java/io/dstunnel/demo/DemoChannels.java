// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.demo;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetSocket;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The demo server's callback channels (backend-protocol.md, "Heavyweight callbacks"), kept in
 * memory as a DataSnap server keeps them: a channel lives on this server only. One per server,
 * used from its one event loop.
 */
final class DemoChannels {

  /** A registered client: pushes go to its connection; its registration is answered on close. */
  private record Channel(String name, String clientId, String callbackId, String token, NetSocket socket,
                         Promise<Buffer> registration) {
  }

  private final Map<String, Channel> byClient = new LinkedHashMap<>();

  /** {@code ConnectClientChannel}: answered only when the channel closes. */
  Future<Buffer> connect(NetSocket socket, JsonArray args) {
    Channel c = new Channel(args.getString(0), args.getString(1), args.getString(2),
        args.size() > 4 ? args.getString(4) : null, socket, Promise.promise());
    Channel old = byClient.put(c.clientId(), c);
    if (old != null) {
      old.registration().tryComplete(DemoConnection.result(new JsonArray().add(true)));
    }
    return c.registration().future();
  }

  /** {@code BroadcastToChannel}: whether a channel of that name took the value. */
  boolean broadcast(String channel, Object value) {
    boolean took = false;
    for (Channel c : List.copyOf(byClient.values())) {
      if (c.name().equals(channel)) {
        push(c, value);
        took = true;
      }
    }
    return took;
  }

  /** {@code NotifyCallback}: pushes to one client's channel. */
  boolean notify(String clientId, String callbackId, Object value) {
    Channel c = byClient.get(clientId);
    if (c == null) {
      return false;
    }
    c.socket().write(callback(callbackId, value));
    return true;
  }

  /** {@code CloseClientChannel}: the channel's registration finally gets its answer. */
  boolean close(String clientId, String token) {
    Channel c = byClient.get(clientId);
    if (c == null || c.token() != null && token != null && !c.token().equals(token)) {
      return false;
    }
    byClient.remove(clientId);
    c.registration().tryComplete(DemoConnection.result(new JsonArray().add(true)));
    return true;
  }

  /** A connection ended: its channels go with it. */
  void closed(NetSocket socket) {
    for (Channel c : new ArrayList<>(byClient.values())) {
      if (c.socket() == socket) {
        byClient.remove(c.clientId());
        c.registration().tryFail("connection closed");
      }
    }
  }

  private static void push(Channel c, Object value) {
    c.socket().write(callback(c.callbackId(), value));
  }

  private static Buffer callback(String callbackId, Object value) {
    return new JsonObject().put("callback", new JsonArray().add(callbackId).add(value)).toBuffer();
  }
}
