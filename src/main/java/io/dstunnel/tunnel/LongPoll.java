// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.tunnel;

import io.dstunnel.config.HttpConfig;
import io.dstunnel.events.ProxyMetrics;
import io.dstunnel.session.SessionVerticle;
import io.dstunnel.session.message.TunnelReply;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A read: held until answer bytes arrive. The session holds it for a slice at a time and answers
 * "no data yet" at the slice's end, and the poll asks again, so no bus request outlives its
 * timeout; the client sees one long poll (or 504 at the configured read timeout). If the client
 * goes away, the read is cancelled; bytes given to a read that could not send them go back.
 */
final class LongPoll {

  private static final AtomicLong READ_IDS = new AtomicLong();

  private final SessionClient sessions;
  private final HttpConfig config;
  private final ProxyMetrics metrics;

  LongPoll(SessionClient sessions, HttpConfig config, ProxyMetrics metrics) {
    this.sessions = sessions;
    this.config = config;
    this.metrics = metrics;
  }

  /** Answers {@code req} with up to {@code max} bytes of session {@code sid}. */
  Future<Void> read(HttpServerRequest req, String sid, String user, int max) {
    long started = System.nanoTime();
    long deadline = config.readTimeoutMs() > 0 ? started + config.readTimeoutMs() * 1_000_000 : 0;
    Promise<Void> done = Promise.promise();
    long readId = READ_IDS.incrementAndGet();
    boolean[] gone = {false};
    req.response().closeHandler(v -> {
      gone[0] = true;
      sessions.cancelRead(sid, user, readId);
    });
    poll(req, sid, user, max, readId, deadline, gone, done);
    return done.future().onSuccess(v -> metrics.readWait(System.nanoTime() - started));
  }

  private void poll(HttpServerRequest req, String sid, String user, int max, long readId, long deadline,
                    boolean[] gone, Promise<Void> done) {
    long slice = SessionVerticle.READ_SLICE_MS;
    if (deadline != 0) {
      slice = Math.min(slice, Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
    }
    sessions.read(sid, user, max, readId, slice).onComplete(ar -> {
      if (ar.failed()) {
        done.fail(ar.cause());
        return;
      }
      TunnelReply r = ar.result();
      if (r.kind() == TunnelReply.Kind.NO_DATA_YET) {
        if (gone[0]) {
          done.complete();
        } else if (deadline != 0 && System.nanoTime() - deadline >= 0) {
          done.fail(new TunnelFailure(504, "No data within " + config.readTimeoutMs() + " ms"));
        } else {
          poll(req, sid, user, max, readId, deadline, gone, done);
        }
        return;
      }
      HttpServerResponse resp = req.response();
      if (gone[0] || resp.closed()) {
        sessions.unread(sid, user, r);
        done.complete();
        return;
      }
      metrics.bytesOut(r.data().length());
      // In the same turn as the bytes go to the client's connection: a relaying node's death
      // after this leaves the owner knowing the client has them.
      sessions.delivered(sid, user, readId);
      resp.putHeader(HttpHeaders.CONTENT_TYPE, "application/octet-stream")
          .putHeader(HttpHeaders.CONTENT_LENGTH, Integer.toString(r.data().length()))
          .end(r.data())
          .onFailure(err -> sessions.unread(sid, user, r));
      done.complete();
    });
  }
}
