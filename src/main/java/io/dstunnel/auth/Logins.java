// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.auth;

import io.dstunnel.config.Role;
import io.vertx.core.Future;
import io.vertx.core.http.HttpServerRequest;

/**
 * A listener's login check: the throttle first (a locked-out address is refused before any hash
 * runs), then the {@link Authenticator}, whose outcome goes back to the throttle. Requests that
 * carry a header verified before cost a map lookup and touch no counter. The throttle counts per
 * client address as {@link ClientAddress} finds it: behind a trusted front, the client's, not the
 * front's. One per verticle instance.
 */
public final class Logins {

  private final Authenticator auth;
  private final LoginThrottle throttle;
  private final String listener;
  private final ClientAddress clients;

  public Logins(Authenticator auth, LoginThrottle throttle, String listener, ClientAddress clients) {
    this.auth = auth;
    this.throttle = throttle;
    this.listener = listener;
    this.clients = clients;
  }

  /** The address of the client behind {@code req} (behind a trusted front, the one it names). */
  public String client(HttpServerRequest req) {
    return clients.of(req);
  }

  public boolean enabled() {
    return auth.enabled();
  }

  /** Whether {@code user}, as {@link #check} gave it, holds {@code role}. */
  public boolean holds(String user, Role role) {
    return auth.holds(user, role);
  }

  /**
   * The user of a valid {@code Authorization} header, or null when it is absent or wrong; fails
   * with {@link LoginRefused} when the client may not try now or the checks are saturated.
   */
  public Future<String> check(HttpServerRequest req, String header) {
    String known = auth.known(header);
    if (known != null) {
      return Future.succeededFuture(known);
    }
    String address = clients.of(req);
    long waitMs = throttle.begin(address);
    if (waitMs > 0) {
      long seconds = (waitMs + 999) / 1000;
      return Future.failedFuture(new LoginRefused(LoginRefused.Reason.LOCKED_OUT, "Too many failed logins; retry after " + seconds + " s", seconds));
    }
    return auth.authenticate(header)
        // Only a wrong password counts toward a lock-out (not a check refused for capacity).
        .onComplete(ar -> throttle.finished(address, ar.failed() || ar.result() != null, listener));
  }
}
