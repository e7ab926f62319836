// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.rest;

import io.dstunnel.backend.Backend;
import io.dstunnel.backend.BackendPool;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The REST callback channels the proxy knows: which backend holds each client's channel (a
 * client's polls are pinned there), which backends have consumers of each channel name (where a
 * broadcast goes), and how each channel was opened (what re-opens it on another backend when its
 * own dies). Channels no call has come for in the session idle time are forgotten (a closed tab
 * never closes its channel). In a cluster every change is put in the cluster manager's map and
 * announced to every node; a node that joins later reads what is there. Shared by every tunnel
 * verticle instance (thread-safe).
 */
final class RestChannelDirectory {

  static final String MAP = "dstunnel.rest.channels";
  static final String CHANGES = "dstunnel.rest.channel";

  private final Map<String, Backend> channelClients = new ConcurrentHashMap<>();
  private final Map<String, Map<String, Backend>> channelConsumers = new ConcurrentHashMap<>();
  private final long idleMs;
  private final long idleNanos;
  private volatile Vertx vertx;
  private volatile BackendPool pool;
  private volatile Future<AsyncMap<String, String>> shared;

  RestChannelDirectory(long idleTimeoutMs) {
    this.idleMs = idleTimeoutMs;
    this.idleNanos = TimeUnit.MILLISECONDS.toNanos(idleTimeoutMs);
  }

  /** Shares the directory with the other nodes of the cluster (call once, at start). */
  void clustered(Vertx vertx, BackendPool pool) {
    this.vertx = vertx;
    this.pool = pool;
    this.shared = vertx.sharedData().getClusterWideMap(MAP);
    vertx.eventBus().<String>consumer(CHANGES, msg -> heard(msg.body()));
    shared.compose(AsyncMap::entries).onSuccess(all -> all.values().forEach(this::heard));
  }

  /** Forgets the channels no call has come for in the idle time ({@code now}: nanoTime). */
  void expire(long now) {
    for (String clientId : List.copyOf(channelClients.keySet())) {
      long[] a = channelActivity.get(clientId);
      if (a == null || a[1] == 0 && now - a[0] > idleNanos) {
        applyClose(clientId);
      }
    }
  }

  /** Channel clients known (their ConsumeClientChannel went through). */
  int clients() {
    return channelClients.size();
  }

  /** The most callbacks remembered for one channel client (RegisterClientCallbackServer calls). */
  static final int CALLBACKS_KEPT = 32;

  /**
   * What re-opens {@code clientId}'s channel on another backend (rest.md item 6): its registration
   * (the path of its first ConsumeClientChannel, without a session id) and the paths of its
   * RegisterClientCallbackServer calls since, with the channel names each listens to.
   */
  record Registration(String channel, String uri, Map<String, String> callbacks, Map<String, List<String>> listens) {
  }

  private final Map<String, Registration> registrations = new ConcurrentHashMap<>();
  /** Per channel client: when it was last heard of, and how many of its calls are under way. */
  private final Map<String, long[]> channelActivity = new ConcurrentHashMap<>();

  /**
   * A channel call of {@code clientId} (registration, poll) went out ({@code started}) or was
   * answered: a channel is kept while one waits, and for the session idle time after the last.
   */
  void call(String clientId, boolean started) {
    long now = System.nanoTime();
    channelActivity.compute(clientId, (id, a) -> {
      long[] v = a == null ? new long[2] : a;
      v[0] = now;
      v[1] = Math.max(0, v[1] + (started ? 1 : -1));
      return v;
    });
  }

  /** {@code clientId} registered its channel with {@code uri} (its first consume), listening to {@code names}. */
  void registered(String clientId, String channel, String uri, List<String> names, Backend backend) {
    Registration r = new Registration(channel, uri, new java.util.LinkedHashMap<>(), new ConcurrentHashMap<>());
    r.listens().put("", names);
    registrations.put(clientId, r);
    consumes(channel, clientId, backend);
    names.forEach(n -> consumes(n, clientId, backend));
  }

  /** {@code clientId} added callback {@code callbackId} with {@code uri}, listening to {@code names} too. */
  void callbackAdded(String clientId, String callbackId, String uri, List<String> names) {
    Registration r = registrations.get(clientId);
    Backend b = of(clientId);
    if (r == null || b == null) {
      return;
    }
    synchronized (r) {
      if (r.callbacks().size() >= CALLBACKS_KEPT && !r.callbacks().containsKey(callbackId)) {
        return;
      }
      r.callbacks().put(callbackId, uri);
    }
    r.listens().put(callbackId, names);
    names.forEach(n -> consumes(n, clientId, b));
  }

  /** {@code clientId}'s callback {@code callbackId} was removed. */
  void callbackRemoved(String clientId, String callbackId) {
    Registration r = registrations.get(clientId);
    if (r != null) {
      synchronized (r) {
        r.callbacks().remove(callbackId);
      }
      r.listens().remove(callbackId);
    }
  }

  /** How {@code clientId}'s channel was opened, or null if this node never saw it. */
  Registration registration(String clientId) {
    return clientId == null ? null : registrations.get(clientId);
  }

  /** {@code clientId}'s channel now lives on {@code backend} (re-opened there): every name it listens to. */
  void moved(String clientId, Backend backend) {
    Registration r = registrations.get(clientId);
    if (r == null) {
      return;
    }
    consumes(r.channel(), clientId, backend);
    r.listens().values().forEach(names -> names.forEach(n -> consumes(n, clientId, backend)));
  }

  /** {@code clientId} consumes {@code channel} on {@code backend} (in a cluster: every node hears of it). */
  void consumes(String channel, String clientId, Backend backend) {
    applyConsume(channel, clientId, backend);
    if (shared != null) {
      JsonObject entry = new JsonObject().put("channel", channel).put("client", clientId).put("backend", backend.name());
      shared.compose(m -> m.put(clientId, entry.encode(), idleMs))
          .onComplete(ar -> vertx.eventBus().publish(CHANGES, entry.encode()));
    }
  }

  private void applyConsume(String channel, String clientId, Backend backend) {
    Backend old = channelClients.put(clientId, backend);
    Map<String, Backend> consumers = channelConsumers.computeIfAbsent(channel, c -> new ConcurrentHashMap<>());
    consumers.put(clientId, backend);
    if (old != null && old != backend) {
      // The client's channel moved: every channel it consumed follows it.
      channelConsumers.values().forEach(m -> m.replace(clientId, old, backend));
    }
  }

  /** An announcement from a node (this one included): a consumer seen, or a channel closed. */
  private void heard(String text) {
    JsonObject e = new JsonObject(text);
    if (e.containsKey("backend")) {
      Backend b = pool.byName(e.getString("backend"));
      if (b != null) {
        applyConsume(e.getString("channel"), e.getString("client"), b);
      }
    } else {
      applyClose(e.getString("client"));
    }
  }

  /** The backend holding {@code clientId}'s channel, or null. */
  Backend of(String clientId) {
    return clientId == null ? null : channelClients.get(clientId);
  }

  /** The backends with consumers of {@code channel}. */
  Set<Backend> consumersOf(String channel) {
    Map<String, Backend> consumers = channelConsumers.get(channel);
    return consumers == null ? Set.of() : Set.copyOf(consumers.values());
  }

  /** {@code clientId}'s channel closed. */
  void closed(String clientId) {
    applyClose(clientId);
    if (shared != null) {
      shared.compose(m -> m.remove(clientId))
          .onComplete(ar -> vertx.eventBus().publish(CHANGES, new JsonObject().put("client", clientId).encode()));
    }
  }

  private void applyClose(String clientId) {
    registrations.remove(clientId);
    channelActivity.remove(clientId);
    Backend b = channelClients.remove(clientId);
    if (b != null) {
      channelConsumers.values().forEach(m -> m.remove(clientId));
    }
  }
}
