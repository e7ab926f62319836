package io.dstunnel.tunnel;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;

/** Reads a request body up to a limit, refusing a larger one before or while it arrives (413). */
final class Bodies {

  private Bodies() {
  }

  /**
   * The whole body, at most {@code limit} bytes, arrived within the request timeout that
   * {@code watch} keeps: a client trickling its body in gets 408.
   */
  static Future<Buffer> collect(HttpServerRequest req, int limit, ConnectionWatch watch) {
    String declared = req.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (declared != null) {
      long n;
      try {
        n = Long.parseLong(declared.trim());
      } catch (NumberFormatException e) {
        return Future.failedFuture(TunnelFailure.badRequest("Malformed Content-Length"));
      }
      if (n > limit) {
        return Future.failedFuture(tooLarge(limit));
      }
    }
    Promise<Buffer> promise = Promise.promise();
    Buffer body = Buffer.buffer(declared == null ? 256 : Math.max(0, Integer.parseInt(declared.trim())));
    req.handler(chunk -> {
      if (body.length() + chunk.length() > limit) {
        if (promise.tryFail(tooLarge(limit))) {
          req.pause();
        }
        return;
      }
      body.appendBuffer(chunk);
    });
    // A body cut short (connection closed, malformed chunks): the client's fault, answered 400 if still possible.
    req.exceptionHandler(err -> promise.tryFail(TunnelFailure.badRequest("Malformed or incomplete request body")));
    req.endHandler(v -> promise.tryComplete(body));
    io.vertx.core.http.HttpConnection conn = req.connection();
    watch.bodyStarted(conn, () -> {
      if (promise.tryFail(new TunnelFailure(408, "Request body not received within " + watch.requestTimeoutMs()
          + " ms"))) {
        req.pause();
      }
    });
    return promise.future().onComplete(ar -> watch.bodyEnded(conn));
  }

  private static TunnelFailure tooLarge(int limit) {
    return new TunnelFailure(413, "Write exceeds " + limit + " bytes");
  }
}
