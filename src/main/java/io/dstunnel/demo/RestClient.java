// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.demo;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A DataSnap REST client as the JavaScript and PHP ones behave: credentials on the first call,
 * then the session named by {@code Pragma: dssession=…}, as the server's last answer gave it.
 */
public final class RestClient {

  private static final Pattern DSSESSION = Pattern.compile("dssession=([^,\\s]+)");

  private final HttpClient http;
  private final int port;
  private final String authorization;
  private String session;

  public RestClient(Vertx vertx, int port, String user, String password) {
    this.http = vertx.createHttpClient();
    this.port = port;
    this.authorization = "Basic " + Base64.getEncoder().encodeToString((user + ":" + password)
        .getBytes(StandardCharsets.UTF_8));
  }

  /** The session id the proxy gave, or null before the first call. */
  public String session() {
    return session;
  }

  /** {@code TServerMethods1.EchoString(s)}: its result. */
  public Future<Object> echo(String s) {
    return call("/datasnap/rest/TServerMethods1/EchoString/" + URLEncoder.encode(s, StandardCharsets.UTF_8));
  }

  /** GETs {@code path}; the first result value, or a failure naming the status and body. */
  public Future<Object> call(String path) {
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1").setPort(port)
        .setURI(path);
    if (session == null) {
      options.putHeader("Authorization", authorization);
    } else {
      options.putHeader("Pragma", "dssession=" + session);
    }
    return http.request(options).compose(req -> req.send()).compose(resp -> resp.body().map(body -> {
      String pragma = resp.getHeader("Pragma");
      Matcher m = pragma == null ? null : DSSESSION.matcher(pragma);
      if (m != null && m.find()) {
        session = m.group(1);
      }
      if (resp.statusCode() != 200) {
        throw new IllegalStateException("REST " + path + ": " + resp.statusCode() + " " + body);
      }
      return new JsonObject(body).getJsonArray("result").getValue(0);
    }));
  }
}
