// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.rest;

import io.dstunnel.auth.Logins;
import io.dstunnel.backend.BackendPool;
import io.dstunnel.channels.BroadcastPeers;
import io.dstunnel.config.RestConfig;
import io.dstunnel.events.EventLog;
import io.vertx.core.Vertx;

/**
 * The REST side of one running proxy, as the HTTP listener sees it: what every tunnel verticle
 * instance's {@link RestProxy} shares (the backends, the REST sessions, how broadcast copies fare
 * with each backend), and a proxy for each instance. The HTTP side asks this for its REST proxy
 * and never sees the backend pool.
 */
public final class RestService {

  private final BackendPool pool;
  private final RestSessions sessions;
  /** How broadcast copies fare with each backend (hung ones skipped), shared by every instance. */
  private final BroadcastPeers peers = new BroadcastPeers();
  private final RestConfig config;
  private final String context;
  private final EventLog events;
  private volatile long expiry = -1;

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
    return new RestProxy(vertx, pool, sessions, peers, logins, config, context, events);
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
