// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;

/**
 * Hands each request to a router, and answers 400 (JSON, connection closed) one that the router
 * cannot even take: Vert.x throws out of {@code Router.handle} on some malformed {@code Host}
 * headers ({@code Host: x%00} fails in its authority parser), and such a request would otherwise
 * never be answered, its connection held until the client gives up and an error logged each time.
 */
public final class MalformedRequests {

  private MalformedRequests() {
  }

  /** {@code router}, with a request it throws on answered 400. */
  public static Handler<HttpServerRequest> guard(Router router) {
    return req -> route(router, req);
  }

  /** Routes {@code req}; if the router throws before any handler ran, answers 400. */
  public static void route(Router router, HttpServerRequest req) {
    try {
      router.handle(req);
    } catch (RuntimeException e) {
      HttpServerResponse resp = req.response();
      if (!resp.ended() && !resp.closed() && !resp.headWritten()) {
        resp.setStatusCode(400).setStatusMessage("Malformed request")
            .putHeader(HttpHeaders.CONTENT_TYPE, "application/json").putHeader(HttpHeaders.CONNECTION, "close")
            .end(new JsonObject().put("error", "Malformed request").toBuffer())
            .onComplete(done -> req.connection().close());
      }
    }
  }
}
