// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.rest;

import io.dstunnel.backend.Backend;
import io.vertx.core.Future;
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

/**
 * {@code DSAdmin/BroadcastToChannel} sent to every backend with consumers of the channel (a
 * DataSnap server reaches only the channels it holds), answered {@code [true]} if one took it.
 */
final class RestBroadcast {

  private final HttpClient client;
  private final RestSessions sessions;

  private final String prefix;

  /** {@code prefix}: the REST path prefix, {@code /{context}/rest/}. */
  RestBroadcast(HttpClient client, RestSessions sessions, String prefix) {
    this.client = client;
    this.sessions = sessions;
    this.prefix = prefix;
  }

  /** Whether dstunnel knows consumers of {@code channel} (else the call passes through as any other). */
  boolean knows(String channel) {
    return channel != null && !sessions.consumersOf(channel).isEmpty();
  }

  /**
   * Sends it to each backend with consumers as the client sent it (method, path arguments, body: the
   * framework POSTs a JSON object in the body), without a session id, with {@code authorization};
   * the backend session each of those calls opens is closed at once (a server would keep it
   * for its own session timeout).
   */
  Future<ProxyResponse> send(ProxyRequest req, String channel, String authorization, RestSession session) {
    HttpServerRequest in = req.proxiedRequest();
    Future<Buffer> body = in.body();
    in.resume();  // the proxy holds it paused
    return body.compose(bytes -> {
      String uri = RestCall.withSession(req.getURI(), null);
      List<Future<Boolean>> runs = new ArrayList<>();
      for (Backend b : sessions.consumersOf(channel)) {
        if (b.isUp()) {
          runs.add(run(b, in.method(), uri, in.getHeader(HttpHeaders.CONTENT_TYPE), bytes, authorization));
        }
      }
      return Future.join(runs).transform(ar -> {
        boolean took = runs.stream().anyMatch(f -> f.succeeded() && f.result());
        return Future.succeededFuture(RestReplies.own(req, 200,
            new JsonObject().put("result", new JsonArray().add(took)), session));
      });
    });
  }

  /** One backend's run of the broadcast: whether it took the value. */
  private Future<Boolean> run(Backend b, HttpMethod method, String uri, String contentType, Buffer body,
                              String authorization) {
    RequestOptions options = new RequestOptions().setMethod(method)
        .setServer(SocketAddress.inetSocketAddress(b.config().httpPort(), b.host())).setURI(uri);
    if (authorization != null) {
      options.putHeader(HttpHeaders.AUTHORIZATION, authorization);
    }
    if (contentType != null) {
      options.putHeader(HttpHeaders.CONTENT_TYPE, contentType);
    }
    return client.request(options)
        .compose(r -> body.length() == 0 && method == HttpMethod.GET ? r.send() : r.send(body))
        .compose(r -> r.body().map(answer -> {
          close(b, RestCall.sessionIn(r.getHeader("Pragma")));
          JsonArray result = new JsonObject(answer).getJsonArray("result");
          return result != null && Boolean.TRUE.equals(result.getValue(0));
        }))
        .otherwise(false);
  }

  /** Closes the backend session a broadcast opened (nothing else would use it). */
  private void close(Backend b, String backendSession) {
    if (backendSession == null) {
      return;
    }
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET)
        .setServer(SocketAddress.inetSocketAddress(b.config().httpPort(), b.host()))
        .setURI(prefix + "CloseSession/").putHeader("Pragma", "dssession=" + backendSession);
    client.request(options).compose(HttpClientRequest::send).compose(r -> r.body()).otherwise((Buffer) null);
  }
}
