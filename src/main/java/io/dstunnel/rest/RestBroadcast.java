// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.rest;

import io.dstunnel.backend.Backend;
import io.dstunnel.channels.BroadcastPeers;
import io.dstunnel.events.ProxyMetrics;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.httpproxy.ProxyRequest;
import io.vertx.httpproxy.ProxyResponse;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code DSAdmin/BroadcastToChannel} sent to every backend with consumers of the channel (a
 * DataSnap server reaches only the channels it holds), answered {@code [true]} if one took it.
 *
 * <p>Each copy has the broadcast timeout ({@code pool.answerTimeoutMs}, else 10 s). A copy still
 * unanswered then is taken as not taken by that server: its request is reset, which closes its
 * connection (HTTP/1.1 cannot end one request otherwise); it is counted, and the backend is hung
 * for broadcasts ({@link BroadcastPeers}): later copies skip it, at once, until it answers a probe
 * (a GET of its health-check path). A reset cannot take back a request the server already read:
 * one that was paused, not dead, may still run it when it wakes.
 *
 * <p>Also the one way the REST side sends a {@code CloseSession} of its own ({@link #closeSession}):
 * for the backend sessions broadcasts open, and for an operator's close ({@link RestService#close}).
 */
final class RestBroadcast {

  private static final Logger LOG = LoggerFactory.getLogger(RestBroadcast.class);

  /** A copy or probe still unanswered at the broadcast timeout (its request was reset). */
  private static final class Unanswered extends RuntimeException {
    Unanswered(String what, long ms) {
      super(what + " unanswered after " + ms + " ms", null, false, false);
    }
  }

  /** A backend's answer, read whole. */
  private record Reply(String pragma, Buffer body) {
  }

  private final Vertx vertx;
  private final HttpClient client;
  private final RestSessions sessions;
  private final BroadcastPeers peers;
  private final ProxyMetrics metrics;
  private final long timeoutMs;
  private final String prefix;

  /** {@code prefix}: the REST path prefix, {@code /{context}/rest/}; {@code peers}: shared by the proxy's instances. */
  RestBroadcast(Vertx vertx, HttpClient client, RestSessions sessions, BroadcastPeers peers, ProxyMetrics metrics,
                long timeoutMs, String prefix) {
    this.vertx = vertx;
    this.client = client;
    this.sessions = sessions;
    this.peers = peers;
    this.metrics = metrics;
    this.timeoutMs = timeoutMs;
    this.prefix = prefix;
  }

  /** Whether dstunnel knows consumers of {@code channel} (else the call passes through as any other). */
  boolean knows(String channel) {
    return channel != null && !sessions.channels().consumersOf(channel).isEmpty();
  }

  /**
   * Sends it to each backend with consumers as the client sent it (method, path arguments, body: the
   * framework POSTs a JSON object in the body), without a session id, with {@code authorization};
   * the backend session each of those calls opens is closed at once (a server would keep it
   * for its own session timeout). A hung backend, or one with too many copies under way, is skipped.
   */
  Future<ProxyResponse> send(ProxyRequest req, String channel, String authorization, RestSession session) {
    HttpServerRequest in = req.proxiedRequest();
    Future<Buffer> body = in.body();
    in.resume();  // the proxy holds it paused
    return body.compose(bytes -> {
      String uri = RestCall.withSession(req.getURI(), null);
      List<Future<Boolean>> runs = new ArrayList<>();
      for (Backend b : sessions.channels().consumersOf(channel)) {
        if (!b.isUp()) {
          continue;
        }
        if (peers.admit(b.name())) {
          runs.add(run(b, in.method(), uri, in.getHeader(HttpHeaders.CONTENT_TYPE), bytes, authorization));
        } else {
          metrics.broadcastSkipped("rest", b.name());
          if (peers.probe(b.name())) {
            probe(b);
          }
        }
      }
      return Future.join(runs).transform(ar -> {
        boolean took = runs.stream().anyMatch(f -> f.succeeded() && f.result());
        return Future.succeededFuture(RestReplies.own(req, 200,
            new JsonObject().put("result", new JsonArray().add(took)), session));
      });
    });
  }

  /** One backend's run of the broadcast: whether it took the value (false when it failed or timed out). */
  private Future<Boolean> run(Backend b, HttpMethod method, String uri, String contentType, Buffer body,
                              String authorization) {
    RequestOptions options = options(b, method, uri);
    if (authorization != null) {
      options.putHeader(HttpHeaders.AUTHORIZATION, authorization);
    }
    if (contentType != null) {
      options.putHeader(HttpHeaders.CONTENT_TYPE, contentType);
    }
    Buffer sent = body.length() == 0 && method == HttpMethod.GET ? null : body;
    return exchange(options, sent, "broadcast to " + b.name(), timeoutMs, () -> peers.done(b.name()))
        .map(reply -> {
          close(b, RestCall.sessionIn(reply.pragma()));
          JsonArray result = new JsonObject(reply.body()).getJsonArray("result");
          return result != null && Boolean.TRUE.equals(result.getValue(0));
        })
        .otherwise(err -> {
          if (err instanceof Unanswered) {
            metrics.broadcastTimeout("rest", b.name());
            if (peers.timedOut(b.name())) {
              LOG.warn("REST backend {} left a broadcast unanswered for {} ms: its connection was closed, and"
                  + " broadcasts skip it until it answers again", b.name(), timeoutMs);
              metrics.broadcastHung("rest", b.name(), () -> peers.hung(b.name()) ? 1 : 0);
              peers.watch(vertx, b.name(), timeoutMs, () -> probe(b));
            }
          } else {
            LOG.info("REST broadcast to {} failed: {}", b.name(), err.getMessage());
          }
          return false;
        });
  }

  /** Asks a hung backend for its health-check path: any answer ends the hang; it carries no value. */
  private void probe(Backend b) {
    exchange(options(b, HttpMethod.GET, b.config().health().httpPath()), null, "probe of " + b.name(), timeoutMs,
        () -> { })
        .onComplete(ar -> {
          if (peers.probed(b.name(), ar.succeeded())) {
            LOG.info("REST backend {} answers again: broadcasts go to it again", b.name());
          }
        });
  }

  /** Closes the backend session a broadcast opened (nothing else would use it). */
  private void close(Backend b, String backendSession) {
    if (backendSession != null) {
      closeSession(b, backendSession, timeoutMs);
    }
  }

  /**
   * Ends backend session {@code backendSession} on {@code b} ({@code CloseSession}): done once the
   * backend answered, whatever it said; failed if it did not within {@code withinMs} (the request
   * is then reset, closing its connection).
   */
  Future<Void> closeSession(Backend b, String backendSession, long withinMs) {
    RequestOptions close = options(b, HttpMethod.GET, prefix + "CloseSession/")
        .putHeader("Pragma", "dssession=" + backendSession);
    return exchange(close, null, "CloseSession on " + b.name(), withinMs, () -> { }).mapEmpty();
  }

  private static RequestOptions options(Backend b, HttpMethod method, String uri) {
    return new RequestOptions().setMethod(method).setURI(uri)
        .setServer(SocketAddress.inetSocketAddress(b.config().httpPort(), b.host()));
  }

  /**
   * One request of dstunnel's own, answered within {@code withinMs} (the broadcast timeout, but for
   * an operator's close), or failed with {@link Unanswered} then: the request is reset, closing its
   * connection. {@code over} runs once the request is really over (its connection closed, when it
   * was reset).
   */
  private Future<Reply> exchange(RequestOptions options, Buffer body, String what, long withinMs, Runnable over) {
    Promise<Reply> outcome = Promise.promise();
    HttpClientRequest[] request = new HttpClientRequest[1];
    long timer = vertx.setTimer(withinMs, t -> {
      Unanswered late = new Unanswered(what, withinMs);
      if (outcome.tryFail(late) && request[0] != null) {
        request[0].reset(0, late);
      }
    });
    client.request(options)
        .compose(r -> {
          request[0] = r;
          if (outcome.future().isComplete()) {
            r.reset(0, outcome.future().cause());  // timed out while connecting: never sent
            return Future.failedFuture(outcome.future().cause());
          }
          return body == null ? r.send() : r.send(body);
        })
        .compose(r -> r.body().map(bytes -> new Reply(r.getHeader("Pragma"), bytes)))
        .onComplete(ar -> {
          vertx.cancelTimer(timer);
          over.run();
          if (ar.succeeded()) {
            outcome.tryComplete(ar.result());
          } else {
            outcome.tryFail(ar.cause());
          }
        });
    return outcome.future();
  }
}
