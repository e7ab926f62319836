// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import io.dstunnel.backend.BackendPool;
import io.dstunnel.config.BackendMode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An operator's backend actions (drain, migrate, enable, disable) for the whole cluster
 * (cluster.md §8): the action taken through any node is kept in the cluster manager's map, one
 * entry per backend, and told to every node, which applies it to its own pool; a node that joins
 * or restarts applies what the map holds. A config reload that changes a backend's own mode in a
 * node's file is that node's operator's word and applies on that node only, until the next action.
 */
public final class BackendModes {

  private static final Logger LOG = LoggerFactory.getLogger(BackendModes.class);
  static final String MAP = "dstunnel.backend-modes";
  static final String ADDRESS = "dstunnel.cluster.backend-mode";

  private final Vertx vertx;
  private final MapHandle map;
  private final BackendPool pool;
  private MessageConsumer<JsonObject> consumer;

  public BackendModes(Vertx vertx, BackendPool pool) {
    this.vertx = vertx;
    this.map = new MapHandle(vertx, MAP);
    this.pool = pool;
  }

  /** Listens for actions taken through other nodes, then applies those already taken. */
  public Future<Void> start() {
    consumer = vertx.eventBus().consumer(ADDRESS, msg -> apply(msg.body().getString("name"), msg.body().getString("mode")));
    return consumer.completion().compose(v -> readAgain());
  }

  /**
   * Applies the actions the cluster's map keeps (again): a node that merged with the others at
   * start read its own map first, before the two were settled.
   */
  public Future<Void> readAgain() {
    return map.get().compose(AsyncMap::entries).onSuccess(modes -> modes.forEach(this::apply)).mapEmpty();
  }

  /** Sets backend {@code name}'s mode on every node; completes once this node has it and the map keeps it. */
  public Future<Void> set(String name, BackendMode mode) {
    pool.mode(name, mode);
    vertx.eventBus().publish(ADDRESS, new JsonObject().put("name", name).put("mode", mode.key()));
    return map.get().compose(m -> m.put(name, mode.key()));
  }

  private void apply(String name, String key) {
    BackendMode mode = Arrays.stream(BackendMode.values()).filter(m -> m.key().equals(key)).findFirst().orElse(null);
    if (mode == null) {
      LOG.warn("backend {}: unknown mode {} from the cluster, ignored", name, key);
      return;
    }
    if (pool.byName(name) != null && pool.byName(name).mode() != mode) {
      pool.mode(name, mode);
    }
  }

  public Future<Void> stop() {
    return consumer == null ? Future.succeededFuture() : consumer.unregister();
  }
}
