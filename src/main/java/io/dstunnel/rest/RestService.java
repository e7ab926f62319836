// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.rest;

import io.dstunnel.auth.Logins;
import io.dstunnel.backend.BackendPool;
import io.dstunnel.channels.BroadcastPeers;
import io.dstunnel.config.RestConfig;
import io.dstunnel.events.EventLog;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The REST side of one running proxy, as the HTTP listener sees it: what every tunnel verticle
 * instance's {@link RestProxy} shares (the backends, the REST sessions, how broadcast copies fare
 * with each backend), and a proxy for each instance. The HTTP side asks this for its REST proxy
 * and never sees the backend pool.
 */
public final class RestService {

  private static final Logger LOG = LoggerFactory.getLogger(RestService.class);
  /** How long an operator's close waits for the backend to end its session (it is closed here anyway). */
  private static final int BACKEND_CLOSE_MS = 5_000;

  private final BackendPool pool;
  private final RestSessions sessions;
  /** How broadcast copies fare with each backend (hung ones skipped), shared by every instance. */
  private final BroadcastPeers peers = new BroadcastPeers();
  private final RestConfig config;
  private final String context;
  private final EventLog events;
  private volatile long expiry = -1;
  /**
   * A REST proxy of this process (the last one made; the tunnel verticles live as long as the
   * proxy does): an operator's close sends its {@code CloseSession} through it, as broadcasts do.
   */
  private volatile RestProxy anyProxy;

  /** {@code context}: the HTTP context ({@code http.context}) the REST paths live under. */
  public RestService(BackendPool pool, RestSessions sessions, RestConfig config, String context, EventLog events) {
    this.pool = pool;
    this.sessions = sessions;
    this.config = config;
    this.context = context;
    this.events = events;
  }

  /**
   * A REST proxy for the calling verticle instance (its own HTTP client, on its event loop);
   * {@code logins}: that instance's authentication of tunnel users.
   */
  public RestProxy proxy(Vertx vertx, Logins logins) {
    RestProxy proxy = new RestProxy(vertx, pool, sessions, peers, logins, config, context, events);
    anyProxy = proxy;
    return proxy;
  }

  /** The REST sessions of the whole cluster, as the admin API lists them (never their credentials). */
  public Future<List<JsonObject>> listed() {
    return sessions.listed();
  }

  /** The REST sessions this node serves, as {@link #listed} shows them. */
  public List<JsonObject> listedHere() {
    return sessions.snapshots();
  }

  /**
   * An operator closes REST session {@code id}: no node serves it from the answer on, and its
   * backend session is ended too, as a client's {@code CloseSession} ends both sides (a node that
   * has not yet heard of the close then finds the backend session gone and the record with it).
   * Whether it was open. A backend that does not answer within 5 s keeps its session until its
   * own timeout. The {@code CloseSession} goes as every one of the REST side's own does
   * ({@link RestBroadcast#closeSession}: reset when unanswered in time).
   */
  public Future<Boolean> close(String id) {
    return sessions.close(id).compose(s -> {
      if (s == null) {
        return Future.succeededFuture(false);
      }
      String backendId = s.backendId();
      if (s.backend() == null || backendId == null) {
        return Future.succeededFuture(true);
      }
      RestProxy proxy = anyProxy;
      if (proxy == null) {
        LOG.info("REST session {} closed here; no REST listener runs to end it on its backend {}", id,
            s.backend().name());
        return Future.succeededFuture(true);
      }
      return proxy.broadcasts().closeSession(s.backend(), backendId, BACKEND_CLOSE_MS)
          .transform(ar -> {
            if (ar.failed()) {
              LOG.info("REST session {} closed here; its backend {} did not end it: {}", id, s.backend().name(),
                  ar.cause().getMessage());
            }
            return Future.succeededFuture(true);
          });
    });
  }

  /**
   * Forgets REST sessions idle past {@code idleTimeoutMs} ({@code session.idleTimeoutMs}: the
   * backends expire theirs), looking every quarter of it (1 s to 60 s), until {@link #stopExpiring}.
   */
  public void expireIdle(Vertx vertx, long idleTimeoutMs) {
    expiry = vertx.setPeriodic(Math.max(1_000, Math.min(60_000, idleTimeoutMs / 4)), t -> sessions.expire());
  }

  /** Stops what {@link #expireIdle} started, if it did. */
  public void stopExpiring(Vertx vertx) {
    if (expiry >= 0) {
      vertx.cancelTimer(expiry);
    }
  }
}
