// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.config;

import java.util.Set;

/**
 * The tunnel listener and its limits.
 *
 * @param tls PEM certificate and key for HTTPS, or null for plain HTTP
 * @param idleTimeoutMs a connection with no request under way for this long is closed
 * @param requestTimeoutMs a request whose body has not fully arrived this long after its headers is cut off (408)
 * @param fronts the fronts trusted to name the client behind them (none by default)
 */
public record HttpConfig(String host, int port, int instances, String context, int writeLimitBytes,
                         long readTimeoutMs, TlsConfig tls, long idleTimeoutMs, long requestTimeoutMs,
                         int maxInitialLineLength, int maxHeaderSize, TrustedFronts fronts) {
  public static final String DEFAULT_HOST = "0.0.0.0";
  public static final int DEFAULT_PORT = 8080;
  public static final String DEFAULT_CONTEXT = "datasnap";
  public static final int DEFAULT_WRITE_LIMIT = 1 << 20;
  public static final long DEFAULT_IDLE_TIMEOUT = 120_000;
  public static final long DEFAULT_REQUEST_TIMEOUT = 30_000;
  public static final int DEFAULT_MAX_INITIAL_LINE = 4096;
  public static final int DEFAULT_MAX_HEADER_SIZE = 8192;

  static HttpConfig fromJson(Object value) {
    JsonSection s = JsonSection.of("http", value, Set.of("host", "port", "instances", "context", "writeLimitBytes",
        "readTimeoutMs", "tls", "idleTimeoutMs", "requestTimeoutMs", "maxInitialLineLength", "maxHeaderSize",
        "trustedProxies", "forwardedHeader", "proxyProtocol"));
    String context = s.string("context", DEFAULT_CONTEXT);
    if (!context.matches("[A-Za-z0-9._~-]+")) {
      throw new ConfigException("http.context", "must be one path segment of letters, digits, '.', '_', '~' or '-'");
    }
    return new HttpConfig(
        s.nonEmptyString("host", DEFAULT_HOST),
        s.integer("port", DEFAULT_PORT, 0, 65535),
        s.integer("instances", Runtime.getRuntime().availableProcessors(), 1, 256),
        context,
        s.integer("writeLimitBytes", DEFAULT_WRITE_LIMIT, 1, Integer.MAX_VALUE - 1),
        s.longValue("readTimeoutMs", 0, 0, 86_400_000L),
        s.has("tls") ? TlsConfig.fromJson(s.raw("tls")) : null,
        s.longValue("idleTimeoutMs", DEFAULT_IDLE_TIMEOUT, 0, 86_400_000L),
        s.longValue("requestTimeoutMs", DEFAULT_REQUEST_TIMEOUT, 0, 86_400_000L),
        s.integer("maxInitialLineLength", DEFAULT_MAX_INITIAL_LINE, 256, 1 << 20),
        s.integer("maxHeaderSize", DEFAULT_MAX_HEADER_SIZE, 1024, 1 << 20),
        TrustedFronts.fromJson(s));
  }
}
