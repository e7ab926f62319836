// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.channels;

import io.dstunnel.backend.Backend;
import io.dstunnel.backend.BackendConnector;
import io.dstunnel.backend.BackendPool;
import io.dstunnel.events.ProxyMetrics;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries a {@code BroadcastToChannel} that a session ran on its own backend to every other
 * healthy backend holding a channel of that name (known from the {@link ChannelDirectory}), over
 * dstunnel's own connections, one per backend, kept open and shared by every session. So each
 * channel client gets the value once, whichever server holds its channel. Asked over the local
 * event bus ({@link #ADDRESS}): {@code {"channel", "value", "except"}} answered {@code {"took"}}.
 *
 * <p>Each copy has the broadcast timeout. One still unanswered then is taken as not taken by that
 * server: its connection is closed (the copies queued on it with it), it is counted, and the
 * backend is hung for broadcasts ({@link BroadcastPeers}): later copies skip it at once, until a
 * fresh connection of dstunnel's is answered again. Closing cannot take back bytes the server
 * already received: one that was paused, not dead, may run those copies when it wakes.
 */
public final class ChannelBroadcaster extends VerticleBase {

  public static final String ADDRESS = "dstunnel.channels.broadcast";

  /** A copy or probe still unanswered at the broadcast timeout (its connection was closed). */
  private static final class Unanswered extends RuntimeException {
    Unanswered(long ms) {
      super("unanswered after " + ms + " ms", null, false, false);
    }
  }

  private static final Logger LOG = LoggerFactory.getLogger(ChannelBroadcaster.class);

  private final BackendPool pool;
  private final BackendConnector connector;
  private final ChannelDirectory directory;
  private final JsonObject connectProperties;
  private final long timeoutMs;
  private final ProxyMetrics metrics;
  private final Map<String, Future<PeerConnection>> peers = new HashMap<>();
  private final BroadcastPeers states = new BroadcastPeers();
  private MessageConsumer<JsonObject> consumer;

  public ChannelBroadcaster(BackendPool pool, BackendConnector connector, ChannelDirectory directory,
                            JsonObject connectProperties, long timeoutMs, ProxyMetrics metrics) {
    this.metrics = metrics;
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
      if (states.admit(name)) {
        runs.add(run(b, channel, value));
      } else {
        metrics.broadcastSkipped("dbx", name);
        if (states.probe(name)) {
          probe(b);
        }
      }
    }
    return Future.join(runs).transform(ar -> Future.succeededFuture(
        runs.stream().anyMatch(f -> f.succeeded() && f.result())));
  }

  /** One backend's run of the broadcast: whether it took the value (false when it failed or timed out). */
  private Future<Boolean> run(Backend b, String channel, Object value) {
    Future<PeerConnection> p = peer(b);
    Future<Boolean> work = p.compose(c -> c.broadcast(channel, value)).onComplete(ar -> states.done(b.name()));
    return within(work, () -> {
      // The copy may still wait on that connection: closing it ends it, with the copies queued
      // behind it (answers come in order: they wait on the same hang). What the server already
      // read, it may still run if it wakes.
      drop(b, p);
      metrics.broadcastTimeout("dbx", b.name());
      if (states.timedOut(b.name())) {
        LOG.warn("backend {} left a broadcast unanswered for {} ms: its connection was closed, and broadcasts"
            + " skip it until it answers again", b.name(), timeoutMs);
        metrics.broadcastHung("dbx", b.name(), () -> states.hung(b.name()) ? 1 : 0);
        states.watch(vertx, b.name(), timeoutMs, () -> probe(b));
      }
    }).otherwise(err -> {
      if (!(err instanceof Unanswered)) {
        LOG.warn("broadcast to channel {} on {} failed: {}", channel, b.name(), err.getMessage());
      }
      return false;
    });
  }

  /** Opens a fresh connection to a hung backend: answered (filter query, connect, prepare), the hang ends. */
  private void probe(Backend b) {
    Future<PeerConnection> p = peer(b);
    within(p.compose(PeerConnection::ready), () -> drop(b, p)).onComplete(ar -> {
      if (ar.failed()) {
        drop(b, p);
      }
      if (states.probed(b.name(), ar.succeeded())) {
        LOG.info("backend {} answers again: broadcasts go to it again", b.name());
      }
    });
  }

  /** {@code work} within the broadcast timeout, else failed with {@link Unanswered} after {@code late} ran. */
  private <T> Future<T> within(Future<T> work, Runnable late) {
    Promise<T> outcome = Promise.promise();
    long timer = vertx.setTimer(timeoutMs, t -> {
      if (outcome.tryFail(new Unanswered(timeoutMs))) {
        late.run();
      }
    });
    work.onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (ar.succeeded()) {
        outcome.tryComplete(ar.result());
      } else {
        outcome.tryFail(ar.cause());
      }
    });
    return outcome.future();
  }

  /** Closes {@code b}'s connection {@code p} (once it is open, if it is not yet) and forgets it. */
  private void drop(Backend b, Future<PeerConnection> p) {
    peers.remove(b.name(), p);
    p.onSuccess(PeerConnection::close);
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
