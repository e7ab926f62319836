// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.rest;

import io.dstunnel.backend.Backend;
import io.dstunnel.backend.BackendPool;
import io.dstunnel.session.SessionIds;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The cluster's side of the REST sessions ({@link RestSessions} keeps each node's own): their
 * records in the cluster manager's map, with the idle timeout as their time to live, renewed as
 * they are used; the notices on {@link #CHANGED} by which a node that moves a session to another
 * backend (a re-login) or closes it tells the others to forget their copy; and the sessions
 * closed, which stay closed here whatever request of theirs was still under way. The credentials
 * that opened a session are in its record, sealed with a key derived from the cluster's key
 * ({@link SealedRecords}): never in a shared map in clear, never logged. Until {@link #clustered}
 * (a single node) there are no records and nothing here does anything.
 */
final class RestSessionRecords {

  /** The cluster-wide map of REST sessions, and the address on which nodes hear of changes. */
  static final String MAP = "dstunnel.rest.sessions";
  static final String CHANGED = "dstunnel.rest.changed";

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

  RestSessionRecords(long idleTimeoutMs) {
    this.idleMs = idleTimeoutMs;
    this.idleNanos = TimeUnit.MILLISECONDS.toNanos(idleTimeoutMs);
  }

  /**
   * Shares the sessions with the other nodes of the cluster (call once, at start), their records
   * sealed with a key derived from {@code clusterSecret} (null on a trusted network: in clear).
   * {@code dropHere}: forgets this node's copy of a session another node moved or closed, and
   * returns it (null if this node had none).
   */
  void clustered(Vertx vertx, BackendPool pool, String clusterSecret, Function<String, RestSession> dropHere) {
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
      RestSession s = dropHere.apply(parts[0]);
      if (parts.length > 2) {
        closed.put(parts[0], System.nanoTime());
        if (s != null) {
          s.sharing().onComplete(v -> shared.compose(m -> m.remove(parts[0])));
        }
      }
    });
  }

  /** Whether the sessions are shared with a cluster ({@link #clustered} was called). */
  boolean clustered() {
    return shared != null;
  }

  /** Whether session {@code id} was closed (here, or on another node that said so) within the idle time. */
  boolean closed(String id) {
    return closed.containsKey(id);
  }

  /** Session {@code id} as the cluster's record has it: null if none, not this cluster's, or closed meanwhile. */
  Future<RestSession> load(String id) {
    return shared.compose(m -> m.get(id))
        .map(text -> text == null || closed.containsKey(id) ? null : fromRecord(id, text));
  }

  /** {@code s} moved to another backend (re-bound here): its record says so, and the other nodes forget their copy. */
  Future<Void> moved(RestSession s) {
    return share(s).onSuccess(v -> vertx.eventBus().publish(CHANGED, s.id() + "|" + self));
  }

  /** Keeps a session used on this node alive cluster-wide (its time to live is renewed now and then). */
  Future<Void> renew(RestSession s) {
    if (shared == null || System.nanoTime() - s.sharedAt() < idleNanos / 4) {
      return Future.succeededFuture();
    }
    return share(s);
  }

  /** Writes the record of {@code s} (sealed), after this node's write of it before; nothing for a closed session. */
  Future<Void> share(RestSession s) {
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
   * {@code s} is closed (this node has let go of it already): it stays closed here, its record goes,
   * and the other nodes are told once it has. Done once no node can find it again.
   */
  Future<Void> close(RestSession s) {
    if (shared == null) {
      return Future.succeededFuture();
    }
    closed.put(s.id(), System.nanoTime());
    // After this node's own last write of the record (a renewal under way must not put it back).
    return s.sharing().transform(v -> shared.compose(m -> m.remove(s.id())))
        .<Void>mapEmpty()
        .onComplete(ar -> vertx.eventBus().publish(CHANGED, s.id() + "|" + self + "|closed"));
  }

  /** Forgets closes older than the idle time ({@code now}: nanotime). */
  void expire(long now) {
    closed.values().removeIf(at -> now - at > idleNanos);
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

  /**
   * What the admin API shows of every REST session in the cluster's records (never its
   * credentials): {@code here} gives this node's own (null if not here), shown as this node knows
   * it; any other as its record says, without how long it has been idle (known only where it was
   * used last). Only when {@link #clustered}.
   */
  Future<List<JsonObject>> listed(Function<String, RestSession> here) {
    return shared.compose(AsyncMap::entries).map(all -> {
      long now = System.nanoTime();
      List<JsonObject> list = new ArrayList<>();
      all.forEach((id, text) -> {
        RestSession mine = here.apply(id);
        JsonObject r = mine == null && !closed.containsKey(id) ? record(id, text) : null;
        if (mine != null) {
          list.add(RestSessions.snapshot(mine, now));
        } else if (r != null) {
          Backend b = r.getString("backend") == null ? null : pool.byName(r.getString("backend"));
          list.add(new JsonObject().put("id", id).put("kind", "rest").put("user", r.getString("user"))
              .put("state", "ACTIVE").put("backend", r.getString("backend")).put("connected", b != null && b.isUp()));
        }
      });
      return list;
    });
  }
}
