// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.rest;

import io.dstunnel.auth.LoginRefused;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.StreamResetException;
import io.vertx.core.json.JsonObject;
import io.vertx.httpproxy.Body;
import io.vertx.httpproxy.MediaType;
import io.vertx.httpproxy.ProxyRequest;
import io.vertx.httpproxy.ProxyResponse;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;

/**
 * dstunnel's own answers to REST clients: a JSON body (its reason phrase says the same), and
 * DataSnap's {@code 403 {"SessionExpired":…}} for a session id it does not know.
 */
final class RestReplies {

  private RestReplies() {
  }

  static ProxyResponse refusal(ProxyRequest req, Throwable err) {
    if (err instanceof Refused r && r.status == 403 && r.getMessage() == null) {
      return own(req, 403, new JsonObject().put("SessionExpired", "Session has expired"), null)
          .setStatusMessage("Session Expired");
    }
    if (err instanceof Refused r) {
      ProxyResponse resp = own(req, r.status, new JsonObject().put("error", r.getMessage()), null);
      if (r.status == 401) {
        resp.putHeader("WWW-Authenticate", "Basic realm=\"dstunnel\"");
      }
      return resp;
    }
    if (err instanceof LoginRefused lr) {
      return own(req, lr.status(), new JsonObject().put("error", lr.getMessage()), null)
          .putHeader(HttpHeaders.RETRY_AFTER, Long.toString(lr.retryAfterSeconds()));
    }
    return own(req, 502, new JsonObject().put("error", "Backend failed: " + err.getMessage()), null);
  }

  static ProxyResponse own(ProxyRequest req, int status, JsonObject body, RestSession session) {
    Buffer bytes = body.toBuffer();
    ProxyResponse resp = req.release().response().setStatusCode(status)
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .setBody(Body.body(bytes, MediaType.APPLICATION_JSON));
    if (body.getValue("error") instanceof String message && message.length() < 200) {
      resp.setStatusMessage(message);  // the reason phrase says it too, as the tunnel's answers do
    }
    resp.headers().remove("Pragma");
    if (session != null) {
      resp.putHeader("Pragma", "dssession=" + session.id());
    }
    return resp;
  }

  /** A refusal of dstunnel's own, with its status; a 403 without a message is DataSnap's SessionExpired. */
  static final class Refused extends RuntimeException {
    final int status;

    Refused(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }
  }

  /** No backend could be connected to: the request was never sent. */
  static final class Unreachable extends RuntimeException {
    Unreachable(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * A request that failed on a connection closed (or reset) before any answer came. A stream reset
   * without a cause is vertx-http-proxy giving up on a request whose bytes could not be written
   * (the connection was already gone, a race with its close event); one with a cause is the
   * client's own side failing, not the backend's.
   */
  static boolean closedUnanswered(Throwable err) {
    return err instanceof HttpClosedException
        || err instanceof StreamResetException && err.getCause() == null
        || err instanceof ClosedChannelException
        || err instanceof IOException && String.valueOf(err.getMessage()).contains("reset");
  }
}
