// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.rest;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a DataSnap REST request asks for (rest.md): the server method ({@code Class.Method}), its
 * path arguments, and the session it names, by the URL parameter {@code SESSIONID} or
 * {@code sid} (looked at first) or the header {@code Pragma: dssession=…}. Also rewrites the URI
 * and the {@code Pragma} header to carry another session id, or none.
 */
record RestCall(String className, String method, List<String> args, String sessionId, boolean closeSession) {

  static final Pattern DSSESSION = Pattern.compile("dssession=([^,\\s]*)");

  /** {@code path} below {@code /{context}/rest/}; {@code query} may be null. */
  static RestCall parse(String restPath, String query, String pragma) {
    // Arguments are positional: an empty segment ("//") is an empty argument; only the one after
    // the trailing slash the framework ends every URL with is not one.
    List<String> parts = new ArrayList<>();
    for (String p : restPath.split("/", -1)) {
      parts.add(URLDecoder.decode(p.replace("+", "%2B"), StandardCharsets.UTF_8));
    }
    if (!parts.isEmpty() && parts.get(parts.size() - 1).isEmpty()) {
      parts.remove(parts.size() - 1);
    }
    String sid = queryParam(query, "SESSIONID");
    if (sid == null) {
      sid = queryParam(query, "sid");
    }
    if (sid == null && pragma != null) {
      Matcher m = DSSESSION.matcher(pragma);
      sid = m.find() ? m.group(1) : null;
    }
    boolean close = parts.size() == 1 && parts.get(0).equals("CloseSession");
    String cls = parts.isEmpty() ? "" : parts.get(0);
    String method = parts.size() < 2 ? "" : unquote(parts.get(1));
    List<String> args = parts.size() <= 2 ? List.of() : List.copyOf(parts.subList(2, parts.size()));
    return new RestCall(cls, method, args, sid == null || sid.isEmpty() ? null : sid, close);
  }

  String qualified() {
    return className + "." + method;
  }

  boolean is(String cls, String m) {
    return className.equals(cls) && method.equals(m);
  }

  /** Path argument {@code i}, or null when it is absent or empty. */
  String arg(int i) {
    return i < args.size() && !args.get(i).isEmpty() ? args.get(i) : null;
  }

  private static String unquote(String m) {
    return m.length() > 1 && m.startsWith("\"") && m.endsWith("\"") ? m.substring(1, m.length() - 1) : m;
  }

  private static String queryParam(String query, String name) {
    if (query == null) {
      return null;
    }
    for (String pair : query.split("&")) {
      int eq = pair.indexOf('=');
      String key = eq < 0 ? pair : pair.substring(0, eq);
      if (key.equals(name)) {
        return eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      }
    }
    return null;
  }

  /** {@code uri} with its {@code SESSIONID}/{@code sid} parameters set to {@code id}, or removed (null). */
  static String withSession(String uri, String id) {
    int q = uri.indexOf('?');
    if (q < 0) {
      return uri;
    }
    StringBuilder out = new StringBuilder(uri.substring(0, q));
    char sep = '?';
    for (String pair : uri.substring(q + 1).split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String key = eq < 0 ? pair : pair.substring(0, eq);
      if (key.equals("SESSIONID") || key.equals("sid")) {
        if (id == null) {
          continue;
        }
        pair = key + "=" + id;
      }
      out.append(sep).append(pair);
      sep = '&';
    }
    return out.toString();
  }

  /** A {@code Pragma} value with its {@code dssession} set to {@code id}, or removed (null); null if nothing is left. */
  static String pragmaWith(String pragma, String id) {
    if (pragma == null) {
      return id == null ? null : "dssession=" + id;
    }
    Matcher m = DSSESSION.matcher(pragma);
    if (!m.find()) {
      return id == null ? pragma : pragma + ",dssession=" + id;
    }
    if (id != null) {
      return pragma.substring(0, m.start(1)) + id + pragma.substring(m.end(1));
    }
    String rest = (pragma.substring(0, m.start()) + pragma.substring(m.end())).replaceAll("^[,\\s]+|[,\\s]+$", "")
        .replaceAll(",\\s*,", ",");
    return rest.isEmpty() ? null : rest;
  }

  private static final Pattern EXPIRES = Pattern.compile("dssessionexpires=\\d*");

  /**
   * {@code pragma} with its {@code dssessionexpires} set to {@code ms} (added when absent, once a
   * session is named): the framework drops its session id that long after the last answer that
   * carried it, so it must be what dstunnel honours, not what the backend would.
   */
  static String withExpiry(String pragma, long ms) {
    if (pragma == null || sessionIn(pragma) == null) {
      return pragma;
    }
    Matcher m = EXPIRES.matcher(pragma);
    return m.find() ? pragma.substring(0, m.start()) + "dssessionexpires=" + ms + pragma.substring(m.end())
        : pragma + ",dssessionexpires=" + ms;
  }

  /** The session id a {@code Pragma} value names ({@code dssession=…}), or null. */
  static String sessionIn(String pragma) {
    if (pragma == null) {
      return null;
    }
    Matcher m = DSSESSION.matcher(pragma);
    return m.find() && !m.group(1).isEmpty() ? m.group(1) : null;
  }
}
