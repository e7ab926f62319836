// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.hardening;

import static org.assertj.core.api.Assertions.assertThat;

import io.dstunnel.Dstunnel;
import io.dstunnel.support.Backends;
import io.dstunnel.support.Proxies;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A {@code Host} header that Vert.x's authority parser throws on ({@code x%00}) gets 400 with a
 * JSON body on the tunnel and on the admin listener, and the connection is closed. Before, the
 * exception left the request unanswered: the connection stayed open until the client gave up,
 * and every such request logged an error with its stack.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MalformedHostTest {

  @Test
  void aHostTheParserThrowsOnIsAnswered400OnBothListeners(Vertx vertx) throws IOException {
    Dstunnel proxy = Proxies.config().backend("a", Backends.start(vertx, "A").port(), 0).start(vertx);
    for (int port : new int[] {proxy.port(), proxy.adminPort()}) {
      try (Socket s = new Socket("127.0.0.1", port)) {
        s.setSoTimeout(20_000);
        s.getOutputStream().write("GET /datasnap/tunnel?dss=0&c=1 HTTP/1.1\r\nHost: x%00\r\n\r\n"
            .getBytes(StandardCharsets.ISO_8859_1));
        // Read to the end: the proxy closes the connection after its answer.
        String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        assertThat(answer).as("the answer on port %d", port).startsWith("HTTP/1.1 400")
            .contains("{\"error\":\"Malformed request\"}");
      }
    }
  }
}
