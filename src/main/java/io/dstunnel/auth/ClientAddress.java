// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.auth;

import io.dstunnel.config.TrustedFronts;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The address of the client behind a request, as the login throttle and the audit trail know it.
 * Without trusted fronts it is the TCP peer. Behind them, the hops are read from the right (the
 * nearest first): the TCP peer, then the PROXY protocol's source (when the listener takes it),
 * then the configured forwarding header from its last entry back; the first hop that is not a
 * trusted front is the client. So a client cannot pick its address by sending the header itself:
 * its entries lie left of the one its front appended. A garbled entry ({@code unknown}, an
 * obfuscated name) stops the walk at the last trusted hop. Reads no name service: it runs on the
 * event loop.
 */
public final class ClientAddress {

  private final TrustedFronts fronts;

  public ClientAddress(TrustedFronts fronts) {
    this.fronts = fronts;
  }

  /** The client's address, or "?" when the connection has none (a Unix socket). */
  public String of(HttpServerRequest req) {
    HttpConnection conn = req.connection();
    SocketAddress peer = conn == null ? req.remoteAddress() : conn.remoteAddress(true);
    String hop = host(peer);
    if (hop == null) {
      return "?";
    }
    if (fronts.none() || !fronts.trusts(hop)) {
      return hop;
    }
    if (fronts.proxyProtocol() && conn != null) {
      String source = host(conn.remoteAddress(false));
      if (source != null) {
        hop = source;
        if (!fronts.trusts(hop)) {
          return hop;
        }
      }
    }
    List<String> chain = chain(req);
    for (int i = chain.size() - 1; i >= 0; i--) {
      String next = literal(chain.get(i));
      if (next == null) {
        return hop;
      }
      hop = next;
      if (!fronts.trusts(hop)) {
        return hop;
      }
    }
    return hop;
  }

  /** The forwarding header's entries, left to right, over every line of it. */
  private List<String> chain(HttpServerRequest req) {
    List<String> entries = new ArrayList<>();
    String name = fronts.header().spelling();
    for (String line : req.headers().getAll(name)) {
      for (String element : line.split(",")) {
        entries.add(fronts.header() == TrustedFronts.Header.FORWARDED ? forParameter(element) : element.trim());
      }
    }
    return entries;
  }

  /** The {@code for} parameter of one RFC 7239 element ({@code for=...;proto=...}), or "" without one. */
  private static String forParameter(String element) {
    for (String pair : element.split(";")) {
      int eq = pair.indexOf('=');
      if (eq > 0 && pair.substring(0, eq).trim().toLowerCase(Locale.ROOT).equals("for")) {
        return pair.substring(eq + 1).trim();
      }
    }
    return "";
  }

  /**
   * The normalized IP literal a header entry names ({@code 1.2.3.4}, {@code 1.2.3.4:80},
   * {@code "[2001:db8::1]:80"}, {@code 2001:db8::1}), or null for anything else.
   */
  static String literal(String entry) {
    String e = entry.trim();
    if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) {
      e = e.substring(1, e.length() - 1);
    }
    if (e.startsWith("[")) {
      int close = e.indexOf(']');
      if (close < 0) {
        return null;
      }
      e = e.substring(1, close);
    } else if (e.indexOf(':') > 0 && e.indexOf(':') == e.lastIndexOf(':')) {
      e = e.substring(0, e.indexOf(':'));  // IPv4 with a port
    }
    byte[] bytes = TrustedFronts.bytes(e);
    if (bytes == null) {
      return null;
    }
    try {
      return InetAddress.getByAddress(bytes).getHostAddress();  // from bytes: no lookup
    } catch (UnknownHostException impossible) {
      return null;
    }
  }

  private static String host(SocketAddress address) {
    return address == null ? null : address.hostAddress();
  }
}
