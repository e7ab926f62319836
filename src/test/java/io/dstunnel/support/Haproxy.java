// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.support;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Debian's HAProxy as an L7 front before a cluster's nodes (.ci/run installs it). Without it a
 * test using it is skipped, except in CI ({@code CI=true}), where it fails.
 */
public final class Haproxy implements AutoCloseable {

  private static final Path HAPROXY = Path.of("/usr/sbin/haproxy");

  private final Process process;
  private final int port;

  private Haproxy(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  /**
   * A front on a free port sending each request to the next of {@code nodes} (round robin), with
   * {@code backendLines} added to its backend section (the routing a test tries); returns once it listens.
   */
  public static Haproxy before(Path dir, List<ProxyProcess> nodes, String backendLines) throws IOException {
    assumeTrue(Files.isExecutable(HAPROXY) || "true".equals(System.getenv("CI")), "haproxy is installed by .ci/run");
    int port = ProxyProcess.freePort();
    StringBuilder cfg = new StringBuilder("""
        defaults
          mode http
          timeout connect 2s
          timeout client 60s
          timeout server 60s
        frontend tunnel
          bind 127.0.0.1:%d
          default_backend nodes
        backend nodes
          balance roundrobin
        """.formatted(port)).append(backendLines.indent(2));
    for (int i = 0; i < nodes.size(); i++) {
      cfg.append("  server n").append(i).append(" 127.0.0.1:").append(nodes.get(i).port()).append('\n');
    }
    Path file = dir.resolve("haproxy-" + port + ".cfg");
    Files.writeString(file, cfg);
    Process p = new ProcessBuilder(HAPROXY.toString(), "-f", file.toString()).redirectErrorStream(true)
        .redirectOutput(dir.resolve("haproxy-" + port + ".log").toFile()).start();
    Haproxy front = new Haproxy(p, port);
    await().atMost(Duration.ofSeconds(20)).until(front::listening);
    return front;
  }

  public int port() {
    return port;
  }

  private boolean listening() {
    if (!process.isAlive()) {
      throw new IllegalStateException("haproxy exited with " + process.exitValue());
    }
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  public void close() {
    process.destroyForcibly();
  }
}
