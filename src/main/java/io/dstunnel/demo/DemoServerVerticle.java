// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.demo;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import java.util.HashSet;
import java.util.Set;

/**
 * The demo DataSnap-style TCP server (backend-protocol.md): TServerMethods1's EchoString,
 * ReverseString, Increment, SlowEcho, EchoJson, Blob and data-block execute, and DSAdmin's callback
 * channels (ConnectClientChannel, BroadcastToChannel, NotifyCallback, CloseClientChannel). Undeploying it closes every
 * connection, which is how the demo and the tests "kill" a server.
 */
public final class DemoServerVerticle extends VerticleBase {

  private final String host;
  private final int port;
  private final String name;
  private final Set<NetSocket> sockets = new HashSet<>();
  private final DemoChannels channels = new DemoChannels();
  private NetServer server;

  /** A server on {@code port} (0: any free port) that signs its answers with {@code name}. */
  public DemoServerVerticle(String host, int port, String name) {
    this.host = host;
    this.port = port;
    this.name = name;
  }

  @Override
  public Future<?> start() {
    server = vertx.createNetServer(new NetServerOptions().setHost(host).setPort(port).setTcpNoDelay(true));
    server.connectHandler(socket -> {
      sockets.add(socket);
      socket.closeHandler(v -> {
        sockets.remove(socket);
        channels.closed(socket);
      });
      new DemoConnection(vertx, socket, name(), channels).start();
    });
    return server.listen();
  }

  @Override
  public Future<?> stop() {
    for (NetSocket s : Set.copyOf(sockets)) {
      s.close();
    }
    return server.close();
  }

  /** The name in the answers: as given, else the port. */
  public String name() {
    return name != null ? name : Integer.toString(actualPort());
  }

  public int actualPort() {
    return server.actualPort();
  }
}
