// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.demo;

import io.dstunnel.framing.DbxMessages;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Base64;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A DataSnap tunnel client over HTTP, as a Delphi TSQLConnection with CommunicationProtocol=http
 * behaves: write a request, read until one whole answer has arrived. Used by the demo and the
 * tests; one request at a time.
 */
public final class TunnelClient {

  /** A tunnel request answered with an error status. */
  public static final class TunnelError extends RuntimeException {
    private final int status;

    public TunnelError(int status, String message) {
      super(status + " " + message, null, false, false);
      this.status = status;
    }

    public int status() {
      return status;
    }
  }

  private static final Logger LOG = LoggerFactory.getLogger(TunnelClient.class);

  public static final Buffer FILTER_QUERY = Buffer.buffer(new byte[] {5, 5, 5, 5, 5});

  private final HttpClient http;
  private final Context context;
  private final String host;
  private int port;
  private final String path;
  private final String authorization;
  private final int readSize;
  private final DbxMessages messages = new DbxMessages();
  private final ArrayDeque<Buffer> complete = new ArrayDeque<>();
  private String sessionId = "0";

  /**
   * A client of the proxy at host:port. All its HTTP exchanges run on one event-loop context of
   * {@code vertx}, whichever thread calls it (a test's main thread included).
   */
  public TunnelClient(Vertx vertx, String host, int port, String user, String password, int readSize) {
    this(vertx, vertx.createHttpClient(), host, port, user, password, readSize);
  }

  /** As above, sharing {@code http} (and its connections) with other clients: sessions outlive connections. */
  public TunnelClient(Vertx vertx, HttpClient http, String host, int port, String user, String password,
                      int readSize) {
    this.http = http;
    this.context = vertx.getOrCreateContext();
    this.host = host;
    this.port = port;
    this.path = "/datasnap/tunnel";
    this.authorization = user == null ? null
        : "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    this.readSize = readSize;
    messages.reset(false);
  }

  /** Sends this session's next requests to {@code port} (another node of a cluster). */
  public TunnelClient via(int port) {
    this.port = port;
    return this;
  }

  public String sessionId() {
    return sessionId;
  }

  /** Writes bytes to the session (opening it on the first write). */
  public Future<Void> write(Buffer bytes) {
    return send(HttpMethod.PUT, path + "?dss=" + sessionId + "&c=" + bytes.length(), bytes, null)
        .map(body -> {
          JsonArray answer = new JsonObject(body).getJsonArray("response");
          sessionId = answer.getString(0);
          return null;
        });
  }

  /** Reads until one whole message (an answer, or a push to a channel) has arrived; the next one. */
  public Future<Buffer> readMessage() {
    if (!complete.isEmpty()) {
      return Future.succeededFuture(complete.poll());
    }
    return send(HttpMethod.GET, path + "?dss=" + sessionId + "&c=" + readSize, null, null).compose(bytes -> {
      messages.feed(bytes, complete::add);
      return readMessage();
    });
  }

  public Future<Buffer> call(Buffer request) {
    return write(request).compose(v -> readMessage());
  }

  /** The filter query and a DBX connect, as every DataSnap client starts. */
  public Future<Void> handshake() {
    messages.reset(true);
    return call(FILTER_QUERY)
        .compose(v -> call(Buffer.buffer("{\"method\":\"connect\",\"params\":[{\"DriverName\":\"Datasnap\"}]}")))
        .mapEmpty();
  }

  public Future<Integer> prepare(String method) {
    return prepareMethod("TServerMethods1." + method);
  }

  /** Prepares a server method by its full name ({@code DSAdmin.ConnectClientChannel}); its handle. */
  public Future<Integer> prepareMethod(String qualified) {
    return call(Buffer.buffer("{\"method\":\"prepare\",\"params\":[-1,false,\"DSServerMethod\",\""
        + qualified + "\"]}")).map(b -> new JsonObject(b).getJsonArray("result").getInteger(0));
  }

  /** The DBX message that executes the prepared method {@code handle} with {@code args}. */
  public static Buffer executeRequest(int handle, Object... args) {
    return new JsonObject().put("method", "execute")
        .put("params", new JsonArray().add(handle).add(new JsonArray(List.of(args)))).toBuffer();
  }

  /** Executes a prepared method; the first result value. */
  public Future<Object> execute(int handle, Object... args) {
    return call(executeRequest(handle, args)).map(b -> {
      JsonObject answer = new JsonObject(b);
      if (answer.containsKey("error")) {
        throw new IllegalStateException("server error " + answer.encode());
      }
      return answer.getJsonArray("result").getValue(0);
    });
  }

  /** Closes the session (Delphi 11 form). */
  public Future<Void> close() {
    return send(HttpMethod.POST, path + "?dss=" + sessionId, Buffer.buffer("dss=-" + sessionId),
        "application/x-www-form-urlencoded").mapEmpty();
  }

  private Future<Buffer> send(HttpMethod method, String uri, Buffer body, String contentType) {
    int to = port;  // the node chosen when the request was made, even if via() changes it before it goes
    if (Vertx.currentContext() == context) {
      return exchange(to, method, uri, body, contentType);
    }
    Promise<Buffer> promise = Promise.promise();
    context.runOnContext(v -> exchange(to, method, uri, body, contentType).onComplete(promise));
    return promise.future();
  }

  private Future<Buffer> exchange(int to, HttpMethod method, String uri, Buffer body, String contentType) {
    RequestOptions options = new RequestOptions().setMethod(method).setHost(host).setPort(to).setURI(uri);
    if (authorization != null) {
      options.putHeader(HttpHeaders.AUTHORIZATION, authorization);
    }
    if (contentType != null) {
      options.putHeader(HttpHeaders.CONTENT_TYPE, contentType);
    }
    LOG.debug("{} {} ({} bytes)", method, uri, body == null ? 0 : body.length());
    return http.request(options)
        .compose(req -> body == null ? req.send() : req.send(body))
        .compose(resp -> resp.body().map(b -> {
          LOG.debug("{} {} answered {} ({} bytes)", method, uri, resp.statusCode(), b.length());
          return check(resp, b);
        }));
  }

  private static Buffer check(HttpClientResponse resp, Buffer body) {
    if (resp.statusCode() != 200) {
      throw new TunnelError(resp.statusCode(), resp.statusMessage());
    }
    return body;
  }
}
