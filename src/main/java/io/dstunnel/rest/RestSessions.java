// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.rest;

import io.dstunnel.backend.Backend;
import io.dstunnel.backend.BackendPool;
import io.dstunnel.session.SessionCounter;
import io.dstunnel.session.SessionIds;
import io.dstunnel.session.message.TunnelReply;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The proxy's REST sessions, shared by every tunnel verticle instance, with their callback
 * channels ({@link RestChannelDirectory}). Sessions idle longer than {@code session.idleTimeoutMs}
 * are forgotten ({@link #expire}).
 *
 * <p>In a cluster ({@link #clustered}) every node serves every REST session: the sessions live in
 * the cluster manager's map (with the idle timeout as their time to live, renewed as they are
 * used), each node keeps the ones it served in a cache, and a node that moves a session to another
 * backend (a re-login) or closes it tells the others to forget their copy. The credentials that
 * opened a session are in that map too, sealed with a key derived from the cluster's key
 * ({@link SealedRecords}): never in a shared map in clear, never logged.
 */
public final class RestSessions {

  /** The cluster-wide map of REST sessions, and the address on which nodes hear of changes. */
  static final String MAP = "dstunnel.rest.sessions";
  static final String CHANGED = "dstunnel.rest.changed";

  private final Map<String, RestSession> sessions = new ConcurrentHashMap<>();
  /**
   * Sessions closed (here or on another node), until the idle time has passed since: never loaded,
   * renewed or logged in again here, whatever request of theirs was still under way.
   */
  private final Map<String, Long> closed = new ConcurrentHashMap<>();
  private final long idleNanos;
  private final long idleMs;
  private volatile Vertx vertx;
  private volatile BackendPool pool;
  private volatile Future<AsyncMap<String, String>> shared;
  private volatile SealedRecords records;
  /** This node's mark on its announcements (it ignores its own). */
  private final String self = SessionIds.next();

  private final SessionCounter places;
  private final RestChannelDirectory channels;

  /**
   * {@code places}: the proxy's sessions, which REST sessions count toward as tunnel sessions do
   * ({@code session.maxSessions}, {@code maxSessionsPerUser}; none while draining).
   */
  public RestSessions(long idleTimeoutMs, SessionCounter places) {
    this.places = places;
    this.idleMs = idleTimeoutMs;
    this.idleNanos = TimeUnit.MILLISECONDS.toNanos(idleTimeoutMs);
    this.channels = new RestChannelDirectory(idleTimeoutMs);
  }

  /**
   * Shares the sessions with the other nodes of the cluster (call once, at start), their records
   * sealed with a key derived from {@code clusterSecret} (null on a trusted network: in clear).
   */
  public void clustered(Vertx vertx, BackendPool pool, String clusterSecret) {
    this.vertx = vertx;
    this.pool = pool;
    this.records = new SealedRecords(clusterSecret);
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
    channels.clustered(vertx, pool);
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
      RestSession s = fromRecord(id, text);
      if (s == null) {
        return null;
      }
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

  /**
   * Session {@code id} as the cluster's record {@code text} (written by {@link #share}) has it;
   * null if the record is not one this cluster sealed for that id.
   */
  private RestSession fromRecord(String id, String text) {
    JsonObject j = record(id, text);
    if (j == null) {
      return null;
    }
    return new RestSession(id, j.getString("user"), j.getString("authorization"), pool.byName(j.getString("backend")),
        j.getString("backendId"));
  }

  /** The record of session {@code id} that the map holds as {@code text}, opened; null if not this cluster's. */
  private JsonObject record(String id, String text) {
    String opened = records.open(id, text);
    try {
      return opened == null ? null : new JsonObject(opened);
    } catch (io.vertx.core.json.DecodeException e) {
      return null;
    }
  }

  private Future<Void> share(RestSession s) {
    if (shared == null || closed.containsKey(s.id())) {
      return Future.succeededFuture();  // a closed session's late answer puts nothing back
    }
    s.shared(System.nanoTime());
    Backend b = s.backend();
    String text = new JsonObject().put("user", s.user()).put("authorization", s.authorization())
        .put("backend", b == null ? null : b.name()).put("backendId", s.backendId()).encode();
    String sealed = records.seal(s.id(), text);
    Future<Void> write = s.sharing().transform(v -> shared.compose(m -> m.put(s.id(), sealed, idleMs)));
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
      RestSession recorded = text == null ? null : fromRecord(id, text);
      if (recorded == null || closed.containsKey(id)) {
        if (local != null && sessions.remove(id, local)) {
          forget(local);
        }
        return null;
      }
      RestSession known = local != null ? local : s;
      if (java.util.Objects.equals(recorded.backendId(), known.backendId())) {
        return known;
      }
      forget(sessions.put(id, recorded));
      return recorded;
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
  int expire() {
    long now = System.nanoTime();
    channels.expire(now);
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
    return channels.clients();
  }

  /** Which backend holds each REST callback channel, and what re-opens it elsewhere. */
  RestChannelDirectory channels() {
    return channels;
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
    return shared.compose(AsyncMap::entries).map(all -> {
      long now = System.nanoTime();
      List<JsonObject> list = new ArrayList<>();
      all.forEach((id, text) -> {
        RestSession here = sessions.get(id);
        JsonObject r = here == null && !closed.containsKey(id) ? record(id, text) : null;
        if (here != null) {
          list.add(snapshot(here, now));
        } else if (r != null) {
          Backend b = r.getString("backend") == null ? null : pool.byName(r.getString("backend"));
          list.add(new JsonObject().put("id", id).put("kind", "rest").put("user", r.getString("user"))
              .put("state", "ACTIVE").put("backend", r.getString("backend")).put("connected", b != null && b.isUp()));
        }
      });
      return list;
    });
  }

  /** What the admin API shows of each REST session this node knows (never its credentials). */
  public List<JsonObject> snapshots() {
    long now = System.nanoTime();
    return sessions.values().stream().map(s -> snapshot(s, now)).toList();
  }

  private static JsonObject snapshot(RestSession s, long now) {
    Backend b = s.backend();
    return new JsonObject().put("id", s.id()).put("kind", "rest").put("user", s.user())
        .put("state", "ACTIVE").put("backend", b == null ? null : b.name()).put("connected", b != null && b.isUp())
        .put("idleMs", TimeUnit.NANOSECONDS.toMillis(now - s.lastUsed()));
  }

  /**
   * Closes the REST session {@code id} (an operator's action), wherever in the cluster it was
   * opened: done once no node can find it again; the session, null if none was open.
   */
  Future<RestSession> close(String id) {
    return find(id).compose(s -> s == null ? Future.succeededFuture() : close(s).map(s));
  }
}
