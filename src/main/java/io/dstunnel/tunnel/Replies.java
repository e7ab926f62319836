// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.tunnel;

import io.vertx.core.Future;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** How the tunnel listener answers: JSON bodies, and every failure as status, reason phrase and JSON. */
final class Replies {

  private static final Logger LOG = LoggerFactory.getLogger(Replies.class);

  private Replies() {
  }

  static void json(HttpServerResponse resp, JsonObject body) {
    if (!resp.ended() && !resp.closed()) {
      resp.putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(body.toBuffer());
    }
  }

  /** Answers a failed request: {@link TunnelFailure}s as they say, anything else as a 500. */
  static void fail(HttpServerRequest req, Throwable err) {
    int status = 500;
    String message = "Internal error";
    long retryAfter = 0;
    if (err instanceof TunnelFailure f) {
      status = f.status();
      message = f.getMessage();
      retryAfter = f.retryAfterSeconds();
    } else if (err instanceof HttpClosedException) {
      return; // the client went away: nobody to answer, nothing to report
    } else {
      LOG.error("tunnel request failed", err);
    }
    HttpServerResponse resp = req.response();
    if (resp.ended() || resp.closed()) {
      return;
    }
    resp.setStatusCode(status).setStatusMessage(reason(message))
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
    if (status == 401) {
      resp.putHeader("WWW-Authenticate", "Basic realm=\"dstunnel\"");
    }
    if (retryAfter > 0) {
      resp.putHeader(HttpHeaders.RETRY_AFTER, Long.toString(retryAfter));
    }
    // A body we did not read (or refused) leaves the connection unusable for another request.
    boolean closeAfter = status == 413 || !req.isEnded() && hasBody(req);
    if (closeAfter) {
      resp.putHeader(HttpHeaders.CONNECTION, "close");
    }
    Future<Void> sent = resp.end(new JsonObject().put("error", message).toBuffer());
    if (closeAfter) {
      sent.onComplete(v -> req.connection().close());
    }
  }

  private static boolean hasBody(HttpServerRequest req) {
    String length = req.getHeader(HttpHeaders.CONTENT_LENGTH);
    return req.getHeader(HttpHeaders.TRANSFER_ENCODING) != null || length != null && !length.trim().equals("0");
  }

  /** A reason phrase is one line of visible ASCII. */
  private static String reason(String message) {
    if (message == null) {
      return "Error";
    }
    StringBuilder b = new StringBuilder(Math.min(message.length(), 200));
    for (int i = 0; i < message.length() && b.length() < 200; i++) {
      char ch = message.charAt(i);
      b.append(ch >= 0x20 && ch < 0x7F ? ch : ' ');
    }
    return b.toString();
  }
}
