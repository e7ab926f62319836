// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.rest;

import io.dstunnel.backend.Backend;
import io.dstunnel.backend.BackendPool;
import io.dstunnel.session.SessionCounter;
import io.dstunnel.session.SessionIds;
import io.dstunnel.session.TunnelReply;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The proxy's REST sessions and callback channels, shared by every tunnel verticle instance.
 * Sessions idle longer than {@code session.idleTimeoutMs} are forgotten ({@link #expire}); a
 * channel's client is pinned to the backend its last {@code ConsumeClientChannel} went to.
 *
 * <p>In a cluster ({@link #clustered}) every node serves every REST session: the sessions live in
 * the cluster manager's map (with the idle timeout as their time to live, renewed as they are
 * used), each node keeps the ones it served in a cache, and a node that moves a session to another
 * backend (a re-login) or closes it tells the others to forget their copy. The credentials that
 * opened a session are in that map too (in the members' memory only, never logged). The channel
 * directory is shared the same way: every change announced to every node.
 */
public final class RestSessions {

  /** The cluster-wide map of REST sessions, and the address on which nodes hear of changes. */
  static final String MAP = "dstunnel.rest.sessions";
  static final String CHANGED = "dstunnel.rest.changed";
  static final String CHANNEL_MAP = "dstunnel.rest.channels";
  static final String CHANNELS = "dstunnel.rest.channel";

  private final Map<String, RestSession> sessions = new ConcurrentHashMap<>();
  /**
   * Sessions closed (here or on another node), until the idle time has passed since: never loaded,
   * renewed or logged in again here, whatever request of theirs was still under way.
   */
  private final Map<String, Long> closed = new ConcurrentHashMap<>();
  private final Map<String, Backend> channelClients = new ConcurrentHashMap<>();
  private final Map<String, Map<String, Backend>> channelConsumers = new ConcurrentHashMap<>();
  private final long idleNanos;
  private final long idleMs;
  private volatile Vertx vertx;
  private volatile BackendPool pool;
  private volatile Future<AsyncMap<String, String>> shared;
  private volatile Future<AsyncMap<String, String>> channels;
  /** This node's mark on its announcements (it ignores its own). */
  private final String self = SessionIds.next();

  private final SessionCounter places;

  /**
   * {@code places}: the proxy's sessions, which REST sessions count toward as tunnel sessions do
   * ({@code session.maxSessions}, {@code maxSessionsPerUser}; none while draining).
   */
  public RestSessions(long idleTimeoutMs, SessionCounter places) {
    this.places = places;
    this.idleMs = idleTimeoutMs;
    this.idleNanos = TimeUnit.MILLISECONDS.toNanos(idleTimeoutMs);
  }

  /** Shares the sessions with the other nodes of the cluster (call once, at start). */
  public void clustered(Vertx vertx, BackendPool pool) {
    this.vertx = vertx;
    this.pool = pool;
    this.shared = vertx.sharedData().getClusterWideMap(MAP);
    vertx.eventBus().<String>consumer(CHANGED, msg -> {
      // "id|node" (moved) or "id|node|closed": another node moved or closed the session; this
      // node's copy (and count) goes. A closed one stays closed here: a write of its record this
      // node had under way, which may have landed after the close removed it, is undone.
      String[] parts = msg.body().split("\\|");
      if (parts.length < 2 || parts[1].equals(self)) {
        return;
      }
      RestSession s = sessions.remove(parts[0]);
      forget(s);
      if (parts.length > 2) {
        closed.put(parts[0], System.nanoTime());
        if (s != null) {
          s.sharing().onComplete(v -> shared.compose(m -> m.remove(parts[0])));
        }
      }
    });
    // The channel directory: announced to every node as it changes; a node that joins later
    // reads what is there.
    this.channels = vertx.sharedData().getClusterWideMap(CHANNEL_MAP);
    vertx.eventBus().<String>consumer(CHANNELS, msg -> heard(msg.body()));
    channels.compose(AsyncMap::entries).onSuccess(all -> all.values().forEach(this::heard));
  }

  /** The session {@code id}: this node's, else (in a cluster) the cluster's; null if unknown. */
  Future<RestSession> find(String id) {
    RestSession known = id == null ? null : sessions.get(id);
    if (known != null || id == null || shared == null || closed.containsKey(id)) {
      return Future.succeededFuture(known);
    }
    return shared.compose(m -> m.get(id)).map(text -> {
      if (text == null || closed.containsKey(id)) {
        return null;
      }
      JsonObject j = new JsonObject(text);
      Backend b = pool.byName(j.getString("backend"));
      RestSession s = new RestSession(id, j.getString("user"), j.getString("authorization"), b, j.getString("backendId"));
      RestSession raced = sessions.putIfAbsent(id, s);
      return raced != null ? raced : s;
    });
  }

  /**
   * A place for a new session of {@code user} among the proxy's sessions: null when granted (give it
   * back with {@link #release} unless {@link #open} takes it), else the refusal.
   */
  TunnelReply reserve(String user) {
    return places.tryOpen(user);
  }

  /** Gives back a place {@link #reserve} granted that no session took. */
  void release(String user) {
    places.closed(user);
  }

  /**
   * A new session, holding the place its request reserved: an id of 144 random bits, never the
   * backend's; known cluster-wide once done.
   */
  Future<RestSession> open(String user, String authorization, Backend backend, String backendId) {
    RestSession s = new RestSession(SessionIds.next(), user, authorization, backend, backendId);
    s.holdPlace();
    sessions.put(s.id(), s);
    count(s, backend);
    return share(s).map(s);
  }

  /** {@code s} now lives on {@code b} as {@code backendId}: the other nodes forget their copy. */
  Future<Void> rebind(RestSession s, Backend b, String backendId) {
    boolean moved = s.backend() != b || !backendId.equals(s.backendId());
    s.boundTo(b, backendId);
    if (moved) {
      count(s, b);
    }
    if (!moved || shared == null) {
      return renew(s);
    }
    return share(s).onSuccess(v -> vertx.eventBus().publish(CHANGED, s.id() + "|" + self));
  }

  /** Keeps a session used on this node alive cluster-wide (its time to live is renewed now and then). */
  private Future<Void> renew(RestSession s) {
    if (shared == null || System.nanoTime() - s.sharedAt() < idleNanos / 4) {
      return Future.succeededFuture();
    }
    return share(s);
  }

  private Future<Void> share(RestSession s) {
    if (shared == null || closed.containsKey(s.id())) {
      return Future.succeededFuture();  // a closed session's late answer puts nothing back
    }
    s.shared(System.nanoTime());
    Backend b = s.backend();
    String text = new JsonObject().put("user", s.user()).put("authorization", s.authorization())
        .put("backend", b == null ? null : b.name()).put("backendId", s.backendId()).encode();
    Future<Void> write = s.sharing().transform(v -> shared.compose(m -> m.put(s.id(), text, idleMs)));
    s.sharing(write.otherwiseEmpty());
    return write;
  }

  /**
   * Closes {@code s}: done once no node can find it again (the cluster's record is gone), so that
   * the client's next call, through any node, hears that the session is closed.
   */
  Future<Void> close(RestSession s) {
    forget(sessions.remove(s.id()));
    if (shared == null) {
      return Future.succeededFuture();
    }
    closed.put(s.id(), System.nanoTime());
    // After this node's own last write of the record (a renewal under way must not put it back).
    return s.sharing().transform(v -> shared.compose(m -> m.remove(s.id())))
        .<Void>mapEmpty()
        .onComplete(ar -> vertx.eventBus().publish(CHANGED, s.id() + "|" + self + "|closed"));
  }

  /**
   * {@code s} as it stands now: null once closed (here, or through another node whose notice has
   * not come yet); in a cluster, bound as the cluster's record says (another node may have logged
   * it in again meanwhile, its notice not here yet).
   */
  Future<RestSession> current(RestSession s) {
    String id = s.id();
    if (closed.containsKey(id)) {
      return Future.succeededFuture(null);
    }
    RestSession local = sessions.get(id);
    if (shared == null) {
      return Future.succeededFuture(local);
    }
    return shared.compose(m -> m.get(id)).map(text -> {
      if (text == null || closed.containsKey(id)) {
        if (local != null && sessions.remove(id, local)) {
          forget(local);
        }
        return null;
      }
      JsonObject j = new JsonObject(text);
      RestSession known = local != null ? local : s;
      if (java.util.Objects.equals(j.getString("backendId"), known.backendId())) {
        return known;
      }
      RestSession moved = new RestSession(id, j.getString("user"), j.getString("authorization"),
          pool.byName(j.getString("backend")), j.getString("backendId"));
      forget(sessions.put(id, moved));
      return moved;
    });
  }

  /**
   * A REST session counts toward its backend's sessions ({@code maxSessions}, least-sessions) on
   * the one node that opened or last moved it; it stops counting when it leaves that backend, when
   * it closes or expires there, or when another node moves it.
   */
  private void count(RestSession s, Backend b) {
    Backend was = s.counted(b);
    if (was != null) {
      was.detached();
    }
    if (b != null) {
      b.attached();
    }
  }

  private void forget(RestSession s) {
    if (s != null && s.releasePlace()) {
      places.closed(s.user());
    }
    if (s != null) {
      Backend was = s.counted(null);
      if (was != null) {
        was.detached();
      }
    }
  }

  /** How long a session is kept without a request ({@code session.idleTimeoutMs}): what clients are told. */
  long idleTimeoutMs() {
    return idleMs;
  }

  /** Forgets sessions idle past the timeout; how many. */
  public int expire() {
    long now = System.nanoTime();
    // Channels no call has come for in the idle time (a closed tab never closes its channel).
    for (String clientId : List.copyOf(channelClients.keySet())) {
      long[] a = channelActivity.get(clientId);
      if (a == null || a[1] == 0 && now - a[0] > idleNanos) {
        applyClose(clientId);
      }
    }
    closed.values().removeIf(at -> now - at > idleNanos);
    int before = sessions.size();
    sessions.values().removeIf(s -> {
      boolean idle = !s.busy() && now - s.lastUsed() > idleNanos;
      if (idle) {
        forget(s);
      }
      return idle;
    });
    return before - sessions.size();
  }

  public int size() {
    return sessions.size();
  }

  /** Channel clients known (their ConsumeClientChannel went through). */
  public int channelClients() {
    return channelClients.size();
  }

  /**
   * What the admin API shows of each REST session of the proxy (never its credentials): in a
   * cluster, every node's, from the cluster's records (any node serves any of them; how long one
   * has been idle is known only where it was used last: on this node, else not said).
   */
  public Future<List<JsonObject>> listed() {
    if (shared == null) {
      return Future.succeededFuture(snapshots());
    }
    return shared.compose(AsyncMap::entries).map(records -> {
      Map<String, JsonObject> mine = new java.util.HashMap<>();
      snapshots().forEach(s -> mine.put(s.getString("id"), s));
      List<JsonObject> list = new ArrayList<>();
      records.forEach((id, text) -> {
        if (closed.containsKey(id)) {
          return;
        }
        JsonObject here = mine.get(id);
        if (here != null) {
          list.add(here);
          return;
        }
        JsonObject r = new JsonObject(text);
        Backend b = r.getString("backend") == null ? null : pool.byName(r.getString("backend"));
        list.add(new JsonObject().put("id", id).put("kind", "rest").put("user", r.getString("user"))
            .put("state", "ACTIVE").put("backend", r.getString("backend")).put("connected", b != null && b.isUp()));
      });
      return list;
    });
  }

  /** What the admin API shows of each REST session this node knows (never its credentials). */
  public List<JsonObject> snapshots() {
    long now = System.nanoTime();
    List<JsonObject> list = new ArrayList<>();
    for (RestSession s : sessions.values()) {
      Backend b = s.backend();
      list.add(new JsonObject().put("id", s.id()).put("kind", "rest").put("user", s.user())
          .put("state", "ACTIVE").put("backend", b == null ? null : b.name()).put("connected", b != null && b.isUp())
          .put("idleMs", TimeUnit.NANOSECONDS.toMillis(now - s.lastUsed())));
    }
    return list;
  }

  /**
   * Closes the REST session {@code id} (an operator's action), wherever in the cluster it was
   * opened: done once no node can find it again; whether it was open.
   */
  public Future<Boolean> close(String id) {
    return find(id).compose(s -> s == null ? Future.succeededFuture(false) : close(s).map(true));
  }

  // ---- channels ------------------------------------------------------------------------------

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
  void channelCall(String clientId, boolean started) {
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
    Backend b = channelOf(clientId);
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
    if (channels != null) {
      JsonObject entry = new JsonObject().put("channel", channel).put("client", clientId).put("backend", backend.name());
      channels.compose(m -> m.put(clientId, entry.encode(), idleMs))
          .onComplete(ar -> vertx.eventBus().publish(CHANNELS, entry.encode()));
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
  Backend channelOf(String clientId) {
    return clientId == null ? null : channelClients.get(clientId);
  }

  /** The backends with consumers of {@code channel}. */
  Set<Backend> consumersOf(String channel) {
    Map<String, Backend> consumers = channelConsumers.get(channel);
    return consumers == null ? Set.of() : Set.copyOf(consumers.values());
  }

  /** {@code clientId}'s channel closed. */
  void channelClosed(String clientId) {
    applyClose(clientId);
    if (channels != null) {
      channels.compose(m -> m.remove(clientId))
          .onComplete(ar -> vertx.eventBus().publish(CHANNELS, new JsonObject().put("client", clientId).encode()));
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
