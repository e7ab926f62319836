// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.support;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;

/**
 * A listener that never accepts, its accept queue full: further connects get no SYN-ACK and hang
 * until their timeout. {@link #close()} ends that: the next SYN the client retries is refused.
 */
public final class Blackhole implements AutoCloseable {

  private final ServerSocket server;
  private final List<Socket> fillers = new ArrayList<>();

  private Blackhole(ServerSocket server) {
    this.server = server;
  }

  public static Blackhole start() throws IOException {
    Blackhole h = new Blackhole(new ServerSocket(0, 1, InetAddress.getLoopbackAddress()));
    for (int i = 0; i < 16; i++) {
      Socket s = new Socket();
      try {
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), h.port()), 500);
        h.fillers.add(s);
      } catch (SocketTimeoutException full) {
        s.close();
        return h;
      }
    }
    h.close();
    throw new IllegalStateException("this system's accept queue never fills: no black hole can be made");
  }

  public int port() {
    return server.getLocalPort();
  }

  @Override
  public void close() throws IOException {
    for (Socket s : fillers) {
      s.close();
    }
    server.close();
  }
}
