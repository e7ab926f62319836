// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.tunnel;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a request body up to a limit, refusing a larger one before or while it arrives (413).
 * Memory follows the bytes that arrived, never the length a client declared: chunks are kept as
 * they come and joined once, into a buffer of exactly their size.
 */
final class Bodies {

  private Bodies() {
  }

  /** Refuses a declared length over {@code limit} (413) or one that is not a number (400). */
  static void checkDeclared(HttpServerRequest req, int limit) {
    String declared = req.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (declared == null) {
      return;
    }
    long n;
    try {
      n = Long.parseLong(declared.trim());
    } catch (NumberFormatException e) {
      throw TunnelFailure.badRequest("Malformed Content-Length");
    }
    if (n > limit) {
      throw tooLarge(limit);
    }
  }

  /**
   * The whole body, at most {@code limit} bytes, arrived within the request timeout that
   * {@code watch} keeps: a client trickling its body in gets 408. The request may be paused; it is
   * resumed here.
   */
  static Future<Buffer> collect(HttpServerRequest req, int limit, ConnectionWatch watch) {
    Promise<Buffer> promise = Promise.promise();
    List<Buffer> chunks = new ArrayList<>(1);
    int[] size = {0};
    req.handler(chunk -> {
      if (size[0] + chunk.length() > limit) {
        if (promise.tryFail(tooLarge(limit))) {
          req.pause();
        }
        return;
      }
      size[0] += chunk.length();
      chunks.add(chunk);
    });
    // A body cut short (connection closed, malformed chunks): the client's fault, answered 400 if still possible.
    req.exceptionHandler(err -> promise.tryFail(TunnelFailure.badRequest("Malformed or incomplete request body")));
    req.endHandler(v -> promise.tryComplete(join(chunks, size[0])));
    HttpConnection conn = req.connection();
    watch.bodyStarted(conn, () -> {
      if (promise.tryFail(new TunnelFailure(408, "Request body not received within " + watch.requestTimeoutMs()
          + " ms"))) {
        req.pause();
      }
    });
    req.resume();
    return promise.future().onComplete(ar -> watch.bodyEnded(conn));
  }

  private static Buffer join(List<Buffer> chunks, int size) {
    if (chunks.size() == 1) {
      return chunks.get(0);
    }
    Buffer body = Buffer.buffer(size);
    chunks.forEach(body::appendBuffer);
    return body;
  }

  private static TunnelFailure tooLarge(int limit) {
    return new TunnelFailure(413, "Write exceeds " + limit + " bytes");
  }
}
