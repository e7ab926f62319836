// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.hardening;

import static org.assertj.core.api.Assertions.assertThat;

import io.dstunnel.Dstunnel;
import io.dstunnel.demo.TunnelClient;
import io.dstunnel.support.Backends;
import io.dstunnel.support.Proxies;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A seeded generator of malformed requests (methods, paths, query strings, encodings, truncated and
 * oversized bodies, duplicate parameters, huge headers), sent over raw sockets. No answer may be a
 * 500, the proxy must stay up, and a live session next to the noise must not lose or gain a byte.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FuzzTest {

  private static final long SEED = 20261125L;
  private static final int REQUESTS = 1500;
  private static final Pattern STATUS = Pattern.compile("^HTTP/1\\.[01] (\\d{3})");

  private static String pick(Random r, String... options) {
    return options[r.nextInt(options.length)];
  }

  private static String junk(Random r, int max) {
    StringBuilder b = new StringBuilder();
    int n = r.nextInt(max + 1);
    for (int i = 0; i < n; i++) {
      b.append((char) (r.nextBoolean() ? 33 + r.nextInt(94) : pick(r, "%", "&", "=", "?", "/", "+", "%zz", "%00",
          "%ff", "dss", "c", "-", "0", "9").charAt(0)));
    }
    return b.toString();
  }

  /** One malformed (or borderline) request, as bytes. */
  private static byte[] request(Random r, String liveSid) {
    String method = pick(r, "GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "HEAD", "G\u00e9T", "BREW", "put");
    String path = pick(r, "/datasnap/tunnel", "/datasnap/tunnel/", "/datasnap/tunnel/x", "/datasnap", "/",
        "//datasnap//tunnel", "/datasnap/tunnel%2f", "/%2e%2e/datasnap/tunnel", "/datasnap/rest/x", "*",
        "/datasnap/tunnel;x=1", "/" + junk(r, 40));
    List<String> params = new ArrayList<>();
    int n = r.nextInt(5);
    for (int i = 0; i < n; i++) {
      params.add(pick(r, "dss", "c", "dss", "c", "DSS", "x", "", junk(r, 5)) + pick(r, "=", "", "==")
          + pick(r, "0", "-1", "1", "99999999999999999999", "abc", "%zz", "", liveSid == null ? "zz" : "A" + liveSid,
              "-" + junk(r, 30), junk(r, 20), "NaN", "1e9", " 5"));
    }
    String query = params.isEmpty() ? "" : "?" + String.join(pick(r, "&", "&&", ";"), params);
    byte[] body = new byte[r.nextInt(4) == 0 ? r.nextInt(3000) : r.nextInt(40)];
    r.nextBytes(body);
    if (r.nextInt(5) == 0) {
      body = ("dss=-" + junk(r, 30)).getBytes(StandardCharsets.ISO_8859_1);
    }
    StringBuilder head = new StringBuilder(method + " " + path + query + " HTTP/1.1\r\nHost: fuzz\r\n");
    int bodyMode = r.nextInt(6);
    switch (bodyMode) {
      case 0 -> head.append("Content-Length: ").append(body.length).append("\r\n");
      case 1 -> head.append("Content-Length: ").append(body.length + 1 + r.nextInt(100)).append("\r\n"); // truncated
      case 2 -> head.append("Content-Length: ").append(pick(r, "-1", "abc", "99999999999", "1, 2")).append("\r\n");
      case 3 -> head.append("Transfer-Encoding: chunked\r\n");
      case 4 -> head.append("Content-Length: 0\r\n");
      default -> { }
    }
    if (r.nextInt(4) == 0) {
      head.append("Authorization: ").append(pick(r, "Basic ", "Basic !!!", "Bearer x", "Basic "
          + Base64.getEncoder().encodeToString(junk(r, 30).getBytes(StandardCharsets.ISO_8859_1)), "basic YWRtaW46YWRtaW4="))
          .append("\r\n");
    }
    if (r.nextInt(10) == 0) {
      head.append("X-Huge: ").append("h".repeat(r.nextInt(20_000))).append("\r\n");
    }
    if (r.nextInt(8) == 0) {
      head.append("Content-Type: ").append(pick(r, "application/x-www-form-urlencoded", "text/plain", "\u0001"))
          .append("\r\n");
    }
    head.append("\r\n");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(head.toString().getBytes(StandardCharsets.ISO_8859_1));
    if (bodyMode == 3) {
      out.writeBytes((Integer.toHexString(body.length) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
      out.writeBytes(body);
      out.writeBytes(pick(r, "\r\n0\r\n\r\n", "\r\n", "zz\r\n").getBytes(StandardCharsets.ISO_8859_1));
    } else {
      out.writeBytes(body);
    }
    return out.toByteArray();
  }

  /**
   * Sends a request and reads until a status line or the end of the connection: the status, or -1
   * when the proxy closed (or reset) without one. Every request ends one way or the other within
   * the proxy's own timeouts (body 408, read 504), so a socket timeout here is a hang and fails.
   */
  private static int exchange(int port, byte[] request) throws Exception {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(15_000);
      OutputStream out = s.getOutputStream();
      try {
        out.write(request);
        out.flush();
        s.shutdownOutput();
      } catch (java.io.IOException closedEarly) {
        // the proxy may refuse mid-request (413, 431): read what it said
      }
      InputStream in = s.getInputStream();
      byte[] buf = new byte[64];
      int got = 0;
      try {
        int k;
        while (got < buf.length && (k = in.read(buf, got, buf.length - got)) > 0) {
          got += k;
        }
      } catch (SocketTimeoutException e) {
        throw new AssertionError("no answer and no close within 15 s: the proxy left a request hanging", e);
      } catch (java.net.SocketException reset) {
        // a reset: no status to check
      }
      Matcher m = STATUS.matcher(new String(buf, 0, got, StandardCharsets.ISO_8859_1));
      return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }
  }

  @Test
  void malformedRequestsNeverGet500AndNeverDisturbALiveSession(Vertx vertx) throws Exception {
    Dstunnel proxy = Proxies.config().backend("a", Backends.start(vertx, "A").port(), 0)
        .set("http", "requestTimeoutMs", 500).set("http", "readTimeoutMs", 500).start(vertx);
    TunnelClient live = Proxies.client(vertx, proxy);
    live.handshake().await();
    int inc = live.prepare("Increment").await();
    Random r = new Random(SEED);
    int answered = 0;
    for (int i = 0; i < REQUESTS; i++) {
      int status = exchange(proxy.port(), request(r, live.sessionId().substring(1)));
      assertThat(status).as("request %d (seed %d)", i, SEED).isNotEqualTo(500);
      if (status > 0) {
        answered++;
      }
      if (i % 100 == 0) {
        assertThat(live.execute(inc, 1).await()).isEqualTo(i / 100 + 1);
      }
    }
    assertThat(answered).isGreaterThan(REQUESTS / 2);
    assertThat(live.execute(inc, 100).await()).isEqualTo(REQUESTS / 100 + 100);
  }
}
