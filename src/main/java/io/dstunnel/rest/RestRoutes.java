// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.rest;

import io.dstunnel.backend.Backend;
import io.dstunnel.backend.BackendPool;
import io.dstunnel.backend.Failures;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a REST request goes: every request of a session to the backend that holds it, a channel
 * call to the backend holding its channel, anything else balanced as a new tunnel session is
 * (priorities, health, drain); and, when its backend fails, the next one in order, as a login.
 */
final class RestRoutes {

  private final BackendPool pool;
  private final RestChannels channels;

  RestRoutes(BackendPool pool, RestChannels channels) {
    this.pool = pool;
    this.channels = channels;
  }

  /** Whether some backend serves REST (names an httpPort). */
  boolean anyServesRest() {
    return pool.backends().stream().anyMatch(b -> b.config().servesRest());
  }

  /** The backends that serve REST, in balancing order (for requests that hold no session). */
  List<Backend> forAnyRequest() {
    return pool.forNewSession().stream().filter(b -> b.config().servesRest()).toList();
  }

  /** Counts a failure against {@code b} (as a tunnel session's connection failure does). */
  void failed(Backend b, String why) {
    pool.failure(b, why);
  }

  /** Counts a failed connection to {@code b} against it. */
  void connectFailed(Backend b, Throwable err) {
    pool.failure(b, "REST connect failed: " + Failures.describe(err));
  }

  /** Where the request goes; false when no backend serves REST. */
  boolean route(RestExchange ex) {
    RestCall call = ex.call;
    Backend pinned = channels.pinned(call);
    Backend home = ex.session == null ? null : ex.session.backend();
    if (call.is("DSAdmin", "NotifyCallback") && pinned != null && pinned.isUp() && pinned != home) {
      ex.target = pinned;
      ex.fresh = true;
      ex.offSession = ex.session != null;
      return true;
    }
    if (home != null && home.isUp() && home.config().servesRest()) {
      ex.target = home;
      ex.fresh = false;
      return true;
    }
    if (ex.session == null && pinned != null && pinned.isUp()) {
      ex.target = pinned;
      ex.fresh = true;
      return true;
    }
    return reroute(ex);
  }

  /** A new backend for the request (balanced), without the backend's session id: a (re-)login. */
  boolean reroute(RestExchange ex) {
    List<Backend> order = new ArrayList<>();
    for (Backend b : ex.target == null ? pool.forNewSession() : pool.forFailover(ex.target)) {
      if (b.config().servesRest() && b != ex.target) {
        order.add(b);
      }
    }
    if (order.isEmpty()) {
      return false;
    }
    ex.target = order.get(0);
    ex.others = new ArrayDeque<>(order.subList(1, order.size()));
    ex.fresh = true;
    return true;
  }

  /**
   * The next backend after the target refused the connection (the request was not sent), as a
   * login: the next candidate, else (for a request of a session's own backend) a new balanced
   * choice; null when none is left.
   */
  Backend next(RestExchange ex) {
    Backend next = ex.others.poll();
    if (next == null && !ex.fresh && reroute(ex)) {
      next = ex.target;
    } else if (next != null) {
      ex.target = next;
      ex.fresh = true;
    }
    return next;
  }
}
