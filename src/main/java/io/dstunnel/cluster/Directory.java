// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import io.dstunnel.session.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where each session of the cluster lives. The cluster manager's map holds the records; each node
 * keeps a cache, fed by the announcements every owner change publishes, so that forwarding a
 * request costs no map lookup and a node's death does not make the lookup wait for the cluster manager to
 * move that node's partitions. Shared by the verticles of one node (thread-safe).
 */
final class Directory {

  private static final Logger LOG = LoggerFactory.getLogger(Directory.class);
  static final String MAP = "dstunnel.sessions";

  private final Vertx vertx;
  private final ConcurrentHashMap<String, SessionRecord> cache = new ConcurrentHashMap<>();
  private final MapHandle map;

  private final long ttlMs;

  /** {@code ttlMs}: how long a record outlives its owner's last refresh. */
  Directory(Vertx vertx, long ttlMs) {
    this.vertx = vertx;
    this.map = new MapHandle(vertx, MAP);
    this.ttlMs = ttlMs;
  }

  /**
   * Asks for the map's handle now, at start, while the cluster is whole, not at the first look-up:
   * on a node just back from a pause or a partition, asking for it ({@link MapHandle}) waited more
   * than a minute, and the node's first look-up of a session it had not heard of (a new session
   * written through it) hung that long.
   */
  void start() {
    map.get();
  }

  /** The cached record, or null. */
  SessionRecord cached(String sid) {
    return cache.get(sid);
  }

  /** The cached record, else the map's (null when the cluster knows no such session). */
  Future<SessionRecord> lookup(String sid) {
    SessionRecord known = cache.get(sid);
    return known != null ? Future.succeededFuture(known) : fresh(sid);
  }

  /**
   * The map's record, bypassing the cache (after the cache proved stale); if this node heard of a
   * newer owner than the map has yet (an adopter's update still on its way), the newer one.
   */
  Future<SessionRecord> fresh(String sid) {
    return map.get().compose(m -> m.get(sid)).map(text -> {
      SessionRecord r = SessionRecord.decode(sid, text);
      if (r == null) {
        cache.remove(sid);
        return null;
      }
      learn(r);
      return cache.get(sid);
    });
  }

  /** Records {@code r} in the map and tells every node. Completes once the map has it. */
  Future<Void> publish(SessionRecord r) {
    learn(r);
    vertx.eventBus().publish(Addresses.DIRECTORY, r.announce());
    return refresh(r);
  }

  /** Puts {@code r} in the map again (an idle session lives on), telling nobody: the record's time to live starts again. */
  Future<Void> refresh(SessionRecord r) {
    return map.get().compose(m -> m.put(r.sessionId(), r.encode(), ttlMs));
  }

  /** The session ended: its record goes, everywhere. */
  void remove(String sid) {
    cache.remove(sid);
    vertx.eventBus().publish(Addresses.DIRECTORY, sid + "|-");
    map.get().compose(m -> m.remove(sid));
  }

  /** An announcement from another node (or a reply that named a newer owner). */
  void heard(String announcement) {
    if (announcement.endsWith("|-")) {
      cache.remove(announcement.substring(0, announcement.length() - 2));
    } else {
      learn(SessionRecord.fromAnnouncement(announcement));
    }
  }

  /**
   * Keeps {@code r} unless a record with a higher epoch is known (of two with the same epoch, the
   * one that names the copy holders: a reply that only named the new owner does not erase them).
   */
  void learn(SessionRecord r) {
    cache.merge(r.sessionId(), r, (old, neu) -> neu.epoch() > old.epoch()
        || neu.epoch() == old.epoch() && !neu.backups().isEmpty() ? neu : old);
  }

  void forget(String sid) {
    cache.remove(sid);
  }

  /**
   * Member {@code gone} left: the records of the sessions it still owns here are forgotten once it
   * has been gone, since this departure, for as long as a record outlives its owner's last word
   * (its copies and the map's records have expired by then), if it is {@code stillGone} then: not
   * a member again, nor gone again since (that departure has a timer of its own). An owner's death tells this node nothing of each of its
   * sessions: without this, a node neither owner nor copy holder of a session its dead owner took
   * with it would keep its record for its whole life. A partition that long ends the owner's
   * sessions for this side (cluster.md).
   */
  void ownerLeft(String gone, BooleanSupplier stillGone) {
    vertx.setTimer(ttlMs, t -> {
      if (stillGone.getAsBoolean()) {
        int forgotten = 0;
        for (Map.Entry<String, SessionRecord> e : cache.entrySet()) {
          if (e.getValue().owner().equals(gone) && cache.remove(e.getKey(), e.getValue())) {
            forgotten++;
          }
        }
        if (forgotten > 0) {
          LOG.info("cluster: forgot the records of {} sessions of node {}, gone for {} ms", forgotten, gone, ttlMs);
        }
      }
    });
  }

  /** The answer to a member's question where session {@code sid} lives ({@link CopyOp.Kind#WHERE}). */
  CopyOp located(String sid) {
    SessionRecord r = cache.get(sid);
    return r != null ? CopyOp.located(r) : CopyOp.of(CopyOp.Kind.UNKNOWN, sid, 0, null);
  }

  /** How many session records this node knows now: its own sessions' and the other members'. */
  int known() {
    return cache.size();
  }
}
