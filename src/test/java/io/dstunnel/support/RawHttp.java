// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.support;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;

/** Plain HTTP requests to the proxy, answered with everything a test may check. */
public final class RawHttp {

  /** Status, reason phrase, headers and body of one answer. */
  public record Answer(int status, String reason, MultiMap headers, Buffer body) {
    public JsonObject json() {
      return new JsonObject(body);
    }

    public String error() {
      return json().getString("error");
    }
  }

  private final HttpClient client;
  private final Context context;
  private final int port;

  /** Runs every exchange on one event-loop context, whichever thread calls it. */
  public RawHttp(Vertx vertx, int port) {
    this.client = vertx.createHttpClient();
    this.context = vertx.getOrCreateContext();
    this.port = port;
  }

  public Answer send(HttpMethod method, String uri, Buffer body, String... headers) {
    try {
      return sendAsync(method, uri, body, headers).await(15, java.util.concurrent.TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError("no answer within 15 s to " + method + " " + uri);
    }
  }

  /** Sends without waiting: for requests the proxy is expected to hold. */
  public Future<Answer> sendAsync(HttpMethod method, String uri, Buffer body, String... headers) {
    Promise<Answer> promise = Promise.promise();
    context.runOnContext(v -> exchange(method, uri, body, headers).onComplete(promise));
    return promise.future();
  }

  private Future<Answer> exchange(HttpMethod method, String uri, Buffer body, String... headers) {
    RequestOptions options = new RequestOptions().setMethod(method).setHost("127.0.0.1").setPort(port).setURI(uri);
    for (int i = 0; i + 1 < headers.length; i += 2) {
      options.putHeader(headers[i], headers[i + 1]);
    }
    return client.request(options)
        .compose(req -> body == null ? req.send() : req.send(body))
        .compose(resp -> resp.body().map(b -> new Answer(resp.statusCode(), resp.statusMessage(), resp.headers(), b)));
  }

  public Answer get(String uri, String... headers) {
    return send(HttpMethod.GET, uri, null, headers);
  }

  public Answer put(String uri, Buffer body, String... headers) {
    return send(HttpMethod.PUT, uri, body, headers);
  }

  public static String basic(String user, String password) {
    return "Basic " + java.util.Base64.getEncoder().encodeToString((user + ":" + password).getBytes());
  }

}
