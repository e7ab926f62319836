// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.demo;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The demo REST server's callback channels, as a DataSnap server keeps them (rest.md, "Callback
 * channels"): one per ClientId, in memory; a registration answered at once with the created
 * invoke; polls that wait, with no time limit, for the client's next message
 * ({@code {"broadcast":[v,0],"channel":c}}, {@code {"invoke":[cb,v,0]}} or {@code {"close":true}});
 * a poll's response data answers the NotifyCallback waiting for it. Used on one event loop.
 */
final class DemoRestChannels {

  /** A poll for a client this server does not know (never registered here, closed, restarted). */
  static final class UnknownClient extends RuntimeException {
    UnknownClient(String clientId) {
      super("No callback channel for client " + clientId);
    }
  }

  private static final class Client {
    final String channel;
    /** Callback id → the channel names it listens to (besides the client's own channel). */
    final Map<String, Set<String>> callbacks = new LinkedHashMap<>();
    final ArrayDeque<JsonObject> queue = new ArrayDeque<>();
    Promise<JsonObject> poll;
    Promise<Object> notified;

    Client(String channel) {
      this.channel = channel;
    }

    boolean listens(String name) {
      return channel.equals(name) || callbacks.values().stream().anyMatch(c -> c.contains(name));
    }

    void send(JsonObject message) {
      if (poll != null) {
        Promise<JsonObject> p = poll;
        poll = null;
        p.complete(message);
      } else {
        queue.add(message);
      }
    }
  }

  private final Map<String, Client> clients = new HashMap<>();

  /** The first ConsumeClientChannel of a client: its channel is created here. */
  JsonObject register(String channel, String clientId, String callbackId, String channels) {
    Client c = clients.computeIfAbsent(clientId, id -> new Client(channel));
    c.callbacks.put(callbackId, names(channels));
    return new JsonObject().put("invoke", new JsonArray().add(callbackId).add(new JsonObject().put("created", true))
        .add(0));
  }

  /** A poll: {@code response} answers the last message (a waiting NotifyCallback gets it); then the next message. */
  Future<JsonObject> poll(String clientId, Object response) {
    Client c = clients.get(clientId);
    if (c == null) {
      return Future.failedFuture(new UnknownClient(clientId));
    }
    if (c.notified != null) {
      Promise<Object> n = c.notified;
      c.notified = null;
      n.complete(response);
    }
    if (!c.queue.isEmpty()) {
      return Future.succeededFuture(c.queue.poll());
    }
    if (c.poll != null) {
      c.poll.tryComplete(new JsonObject().put("close", true));  // a newer poll replaces it
    }
    c.poll = Promise.promise();
    return c.poll.future();
  }

  boolean addCallback(String clientId, String callbackId, String channels) {
    Client c = clients.get(clientId);
    if (c == null) {
      return false;
    }
    c.callbacks.put(callbackId, names(channels));
    return true;
  }

  boolean removeCallback(String clientId, String callbackId) {
    Client c = clients.get(clientId);
    return c != null && c.callbacks.remove(callbackId) != null;
  }

  /** To every client listening on {@code channel}: whether one took it. */
  boolean broadcast(String channel, Object value) {
    boolean took = false;
    for (Client c : clients.values()) {
      if (c.listens(channel)) {
        c.send(new JsonObject().put("broadcast", new JsonArray().add(value).add(0)).put("channel", channel));
        took = true;
      }
    }
    return took;
  }

  /** To one client's callback: its answer (its next poll's response data), and whether it was there. */
  Future<JsonArray> notify(String clientId, String callbackId, Object value) {
    Client c = clients.get(clientId);
    if (c == null) {
      return Future.succeededFuture(new JsonArray().addNull().add(false));
    }
    Promise<Object> answer = Promise.promise();
    c.notified = answer;
    c.send(new JsonObject().put("invoke", new JsonArray().add(callbackId).add(value).add(0)));
    return answer.future().map(a -> new JsonArray().add(a).add(true));
  }

  boolean close(String clientId) {
    Client c = clients.remove(clientId);
    if (c == null) {
      return false;
    }
    if (c.poll != null) {
      c.poll.tryComplete(new JsonObject().put("close", true));
    }
    return true;
  }

  private static Set<String> names(String list) {
    Set<String> out = new HashSet<>();
    if (list != null) {
      for (String n : List.of(list.split(","))) {
        if (!n.isBlank()) {
          out.add(n.trim());
        }
      }
    }
    return out;
  }
}
