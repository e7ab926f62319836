// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import io.dstunnel.channels.ChannelDirectory;
import io.vertx.core.Future;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The callback channels of the whole cluster (cluster.md, "replaySkip and channels across
 * nodes"): each node tells the others which backends hold channels of which name through it, at
 * every change (the whole of it: small, and never out of order), and once more when a member
 * joins; so a broadcast reaches every backend with a channel of that name, whatever node its
 * registration passed through. A node that leaves takes its share with it (its adopters register
 * those channels again, and tell).
 */
public final class ClusterChannels {

  static final String ADDRESS = "dstunnel.cluster.channels";

  private final ClusterNode node;
  private final ChannelDirectory directory;
  private MessageConsumer<JsonObject> consumer;

  public ClusterChannels(ClusterNode node, ChannelDirectory directory) {
    this.node = node;
    this.directory = directory;
  }

  public Future<Void> start() {
    consumer = node.vertx().eventBus().consumer(ADDRESS, msg -> {
      JsonObject body = msg.body();
      String from = body.getString("node");
      if (from.equals(node.id())) {
        return;
      }
      if (body.getBoolean("hello", false)) {
        tell();  // a member joined: it learns what this node holds
        return;
      }
      Map<String, Set<String>> state = new HashMap<>();
      body.getJsonObject("state").forEach(e -> {
        Set<String> backends = new HashSet<>();
        ((JsonArray) e.getValue()).forEach(b -> backends.add((String) b));
        state.put(e.getKey(), backends);
      });
      directory.heard(from, state);
    });
    directory.onChange(this::tell);
    node.onMemberLeft(directory::forget);
    return consumer.completion().onSuccess(v -> {
      node.vertx().eventBus().publish(ADDRESS, new JsonObject().put("node", node.id()).put("hello", true));
      tell();
    });
  }

  private void tell() {
    JsonObject state = new JsonObject();
    directory.local().forEach((channel, backends) -> state.put(channel, new JsonArray(backends.stream().toList())));
    node.vertx().eventBus().publish(ADDRESS, new JsonObject().put("node", node.id()).put("state", state));
  }
}
