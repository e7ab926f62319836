// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.rest;

import io.vertx.core.http.HttpHeaders;
import io.vertx.httpproxy.ProxyRequest;
import io.vertx.httpproxy.ProxyResponse;

/**
 * The session ids on the wire: a request leaves with its backend's session id (or none, and the
 * session's credentials, for a login); an answer reaches the client with dstunnel's own id and
 * expiry in its {@code Pragma}, and never with a backend's.
 */
final class RestPragma {

  private RestPragma() {
  }

  /** Puts the target's session id (or none, and the session's credentials) on the request. */
  static void toBackend(ProxyRequest req, RestExchange ex) {
    String backendId = ex.fresh || ex.session == null ? null : ex.session.backendId();
    ex.sentWith = backendId;
    req.setURI(RestCall.withSession(req.getURI(), backendId));
    String pragma = RestCall.pragmaWith(req.headers().get("Pragma"), backendId);
    if (pragma == null) {
      req.headers().remove("Pragma");
    } else {
      req.headers().set("Pragma", pragma);
    }
    if (ex.fresh && ex.authorization != null) {
      req.headers().set(HttpHeaders.AUTHORIZATION, ex.authorization);
    }
  }

  /** The backend session id a backend's answer names, or null. */
  static String backendIdIn(ProxyResponse resp) {
    return RestCall.sessionIn(resp.headers().get("Pragma"));
  }

  /**
   * The answer's {@code Pragma} for the client: dstunnel's id of {@code s} and its expiry
   * ({@code idleTimeoutMs}); without a session, the backend's own id ({@code backendId}) removed.
   */
  static void toClient(ProxyResponse resp, RestSession s, String backendId, long idleTimeoutMs) {
    if (s != null) {
      resp.headers().set("Pragma", RestCall.withExpiry(RestCall.pragmaWith(resp.headers().get("Pragma"), s.id()),
          idleTimeoutMs));
    } else if (backendId != null) {
      // A backend's own id never reaches a client.
      String rest = RestCall.pragmaWith(resp.headers().get("Pragma"), null);
      if (rest == null) {
        resp.headers().remove("Pragma");
      } else {
        resp.headers().set("Pragma", rest);
      }
    }
  }

  /** The request's URI without a session id (as channel registrations and callbacks are kept). */
  static String withoutSession(ProxyRequest req) {
    return RestCall.withSession(req.getURI(), null);
  }
}
