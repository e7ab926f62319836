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
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The proxy's REST sessions, shared by every tunnel verticle instance, with their callback
 * channels ({@link RestChannelDirectory}). Sessions idle longer than {@code session.idleTimeoutMs}
 * are forgotten ({@link #expire}).
 *
 * <p>Here: this node's sessions and how they count toward the proxy's places and their backends'
 * sessions. In a cluster ({@link #clustered}) every node serves every REST session: the sessions
 * live in the cluster manager's map, each node keeps the ones it served in a cache (this), and a
 * node that moves a session to another backend (a re-login) or closes it tells the others to
 * forget their copy; that side, with the sealed credentials and the closed sessions, is kept by
 * {@link RestSessionRecords}.
 */
public final class RestSessions {

  private final Map<String, RestSession> sessions = new ConcurrentHashMap<>();
  private final long idleNanos;
  private final long idleMs;
  /** The cluster's records of the sessions, the notices of changes and the closed sessions. */
  private final RestSessionRecords records;

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
    this.records = new RestSessionRecords(idleTimeoutMs);
  }

  /**
   * Shares the sessions with the other nodes of the cluster (call once, at start), their records
   * sealed with a key derived from {@code clusterSecret} (null on a trusted network: in clear).
   */
  public void clustered(Vertx vertx, BackendPool pool, String clusterSecret) {
    records.clustered(vertx, pool, clusterSecret, this::dropHere);
    channels.clustered(vertx, pool);
  }

  /** Another node moved or closed session {@code id}: this node's copy (and count) goes; the copy, or null. */
  private RestSession dropHere(String id) {
    RestSession s = sessions.remove(id);
    forget(s);
    return s;
  }

  /** The session {@code id}: this node's, else (in a cluster) the cluster's; null if unknown. */
  Future<RestSession> find(String id) {
    RestSession known = id == null ? null : sessions.get(id);
    if (known != null || id == null || !records.clustered() || records.closed(id)) {
      return Future.succeededFuture(known);
    }
    return records.load(id).map(s -> {
      if (s == null) {
        return null;
      }
      RestSession raced = sessions.putIfAbsent(id, s);
      if (raced != null) {
        return raced;
      }
      // Served here now: it counts toward this node's limits as long as this node keeps it, as
      // on the node that opened it (which gives its place back once the session is idle there).
      places.adopted(s.user());
      s.holdPlace();
      return s;
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
    return records.share(s).map(s);
  }

  /** {@code s} now lives on {@code b} as {@code backendId}: the other nodes forget their copy. */
  Future<Void> rebind(RestSession s, Backend b, String backendId) {
    boolean moved = s.backend() != b || !backendId.equals(s.backendId());
    s.boundTo(b, backendId);
    if (moved) {
      count(s, b);
    }
    if (!moved || !records.clustered()) {
      return records.renew(s);
    }
    return records.moved(s);
  }

  /**
   * Closes {@code s}: done once no node can find it again (the cluster's record is gone), so that
   * the client's next call, through any node, hears that the session is closed.
   */
  Future<Void> close(RestSession s) {
    forget(sessions.remove(s.id()));
    return records.close(s);
  }

  /**
   * {@code s} as it stands now: null once closed (here, or through another node whose notice has
   * not come yet); in a cluster, bound as the cluster's record says (another node may have logged
   * it in again meanwhile, its notice not here yet).
   */
  Future<RestSession> current(RestSession s) {
    String id = s.id();
    if (records.closed(id)) {
      return Future.succeededFuture(null);
    }
    RestSession local = sessions.get(id);
    if (!records.clustered()) {
      return Future.succeededFuture(local);
    }
    return records.load(id).map(recorded -> {
      if (recorded == null) {
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
    records.expire(now);
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
    return records.clustered() ? records.listed(sessions::get) : Future.succeededFuture(snapshots());
  }

  /** What the admin API shows of each REST session this node knows (never its credentials). */
  public List<JsonObject> snapshots() {
    long now = System.nanoTime();
    return sessions.values().stream().map(s -> snapshot(s, now)).toList();
  }

  static JsonObject snapshot(RestSession s, long now) {
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
