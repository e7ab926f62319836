// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.tunnel;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import java.util.List;

/**
 * A tunnel request as its line and headers tell it (tunnel-protocol.md), before any body byte:
 * a read ({@code GET}), or a write that opens ({@code dss=0}), writes to a session, or may turn
 * out to be a close once its body is seen (a form {@code POST} without a count).
 *
 * @param sid the session ({@code dss}), null when absent; "0" on an open
 * @param count the {@code c} parameter, null when absent
 */
record TunnelRequest(Kind kind, String sid, String count, boolean maybeClose) {

  private static final String FORM = "application/x-www-form-urlencoded";

  /** What the line says the request is. */
  enum Kind { READ, OPEN, WRITE }

  /** Parses the request line; malformed parameters are the client's error (400), other methods 405. */
  static TunnelRequest parse(HttpServerRequest req) {
    HttpMethod m = req.method();
    MultiMap params;
    try {
      params = req.params();
    } catch (IllegalArgumentException e) {
      throw TunnelFailure.badRequest("Malformed query string");
    }
    String dss = single(params, "dss");
    String c = single(params, "c");
    if (m == HttpMethod.GET) {
      if (dss == null || dss.isEmpty()) {
        throw TunnelFailure.badRequest("HTTP request is missing the session parameter");
      }
      readCount(c);
      if (dss.equals("0")) {
        throw TunnelFailure.badRequest("A read needs an open session");
      }
      return new TunnelRequest(Kind.READ, dss, c, false);
    }
    if (m != HttpMethod.PUT && m != HttpMethod.POST) {
      throw new TunnelFailure(405, "Accepted commands are: GET, POST and PUT");
    }
    String type = req.getHeader(HttpHeaders.CONTENT_TYPE);
    boolean maybeClose = m == HttpMethod.POST && c == null && (type == null || type.toLowerCase().startsWith(FORM));
    return new TunnelRequest("0".equals(dss) ? Kind.OPEN : Kind.WRITE, dss, c, maybeClose);
  }

  /** The most bytes a read wants. */
  int readMax() {
    return readCount(count);
  }

  private static int readCount(String c) {
    if (c == null) {
      throw TunnelFailure.badRequest("HTTP request misses the count parameter");
    }
    int n;
    try {
      n = Integer.parseInt(c);
    } catch (NumberFormatException e) {
      throw TunnelFailure.badRequest("Count parameter is not a number");
    }
    if (n < 1) {
      throw TunnelFailure.badRequest("Count parameter must be at least 1");
    }
    return n;
  }

  private static String single(MultiMap params, String name) {
    List<String> all = params.getAll(name);
    if (all.size() > 1) {
      throw TunnelFailure.badRequest("Parameter " + name + " given more than once");
    }
    return all.isEmpty() ? null : all.get(0);
  }
}
