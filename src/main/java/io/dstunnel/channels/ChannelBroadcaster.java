// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.channels;

import io.dstunnel.backend.Backend;
import io.dstunnel.backend.BackendConnector;
import io.dstunnel.backend.BackendPool;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries a {@code BroadcastToChannel} that a session ran on its own backend to every other
 * healthy backend holding a channel of that name (known from the {@link ChannelDirectory}), over
 * dstunnel's own connections, one per backend, kept open and shared by every session. So each
 * channel client gets the value once, whichever server holds its channel. Asked over the local
 * event bus ({@link #ADDRESS}): {@code {"channel", "value", "except"}} answered {@code {"took"}}.
 */
public final class ChannelBroadcaster extends VerticleBase {

  public static final String ADDRESS = "dstunnel.channels.broadcast";
  private static final Logger LOG = LoggerFactory.getLogger(ChannelBroadcaster.class);

  private final BackendPool pool;
  private final BackendConnector connector;
  private final ChannelDirectory directory;
  private final JsonObject connectProperties;
  private final long timeoutMs;
  private final Map<String, Future<PeerConnection>> peers = new HashMap<>();
  private MessageConsumer<JsonObject> consumer;

  public ChannelBroadcaster(BackendPool pool, BackendConnector connector, ChannelDirectory directory,
                            JsonObject connectProperties, long timeoutMs) {
    this.pool = pool;
    this.connector = connector;
    this.directory = directory;
    this.connectProperties = connectProperties;
    this.timeoutMs = timeoutMs;
  }

  @Override
  public Future<?> start() {
    consumer = vertx.eventBus().localConsumer(ADDRESS, msg -> {
      JsonObject ask = msg.body();
      broadcast(ask.getString("channel"), ask.getValue("value"), ask.getString("except"))
          .onComplete(ar -> msg.reply(new JsonObject().put("took", ar.succeeded() && ar.result())));
    });
    return consumer.completion();
  }

  @Override
  public Future<?> stop() {
    peers.values().forEach(f -> f.onSuccess(PeerConnection::close));
    return consumer.unregister();
  }

  private Future<Boolean> broadcast(String channel, Object value, String except) {
    List<Future<Boolean>> runs = new ArrayList<>();
    for (String name : directory.holders(channel)) {
      Backend b = pool.byName(name);
      if (b == null || name.equals(except) || !b.isUp()) {
        continue;
      }
      runs.add(peer(b).compose(p -> p.broadcast(channel, value))
          .timeout(timeoutMs, TimeUnit.MILLISECONDS)
          .otherwise(err -> {
            LOG.warn("broadcast to channel {} on {} failed: {}", channel, name, err.getMessage());
            return false;
          }));
    }
    return Future.join(runs).transform(ar -> Future.succeededFuture(
        runs.stream().anyMatch(f -> f.succeeded() && f.result())));
  }

  private Future<PeerConnection> peer(Backend b) {
    Future<PeerConnection> p = peers.get(b.name());
    if (p == null || p.failed() || p.succeeded() && p.result().closed()) {
      p = connector.connect(List.of(b)).map(conn -> new PeerConnection(conn.socket(), connectProperties));
      peers.put(b.name(), p);
    }
    return p;
  }
}
