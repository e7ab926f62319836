package io.dstunnel.rest;

import io.dstunnel.backend.Backend;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
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

  RestBroadcast(HttpClient client, RestSessions sessions) {
    this.client = client;
    this.sessions = sessions;
  }

  /** Whether dstunnel knows consumers of {@code channel} (else the call passes through as any other). */
  boolean knows(String channel) {
    return channel != null && !sessions.consumersOf(channel).isEmpty();
  }

  /** Sends it to each backend with consumers, without a session id, with {@code authorization}. */
  Future<ProxyResponse> send(ProxyRequest req, String channel, String authorization, RestSession session) {
    String uri = RestCall.withSession(req.getURI(), null);
    List<Future<Boolean>> runs = new ArrayList<>();
    for (Backend b : sessions.consumersOf(channel)) {
      if (!b.isUp()) {
        continue;
      }
      RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET)
          .setServer(SocketAddress.inetSocketAddress(b.config().httpPort(), b.host())).setURI(uri);
      if (authorization != null) {
        options.putHeader(HttpHeaders.AUTHORIZATION, authorization);
      }
      runs.add(client.request(options).compose(HttpClientRequest::send).compose(r -> r.body())
          .map(body -> {
            JsonArray result = new JsonObject(body).getJsonArray("result");
            return result != null && Boolean.TRUE.equals(result.getValue(0));
          })
          .otherwise(false));
    }
    return Future.join(runs).transform(ar -> {
      boolean took = runs.stream().anyMatch(f -> f.succeeded() && f.result());
      return Future.succeededFuture(RestReplies.own(req, 200,
          new JsonObject().put("result", new JsonArray().add(took)), session));
    });
  }
}
