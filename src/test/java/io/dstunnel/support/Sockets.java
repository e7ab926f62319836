// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.support;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import io.vertx.core.shareddata.Shareable;

/**
 * Raw TCP connections for tests, all through one {@link NetClient} per Vertx that the Vertx
 * itself keeps reachable.
 *
 * <p>A client nobody references is shut down by Vert.x once the GC collects it, with a 30 s grace
 * that a {@link NetSocket} waits out in full. A test's throwaway client then held its Vertx's
 * close for 30 s ("Closing the Vertx context timed out"), or failed a connect under way
 * ("Connection was closed"), depending on when the GC ran.
 */
public final class Sockets {

  /** The client, kept in the Vertx's local map: it lives exactly as long as its Vertx. */
  private record Held(NetClient client) implements Shareable {
  }

  private Sockets() {
  }

  /** The Vertx's test client; it closes with the Vertx. */
  public static NetClient client(Vertx vertx) {
    return vertx.sharedData().<String, Held>getLocalMap("io.dstunnel.test.sockets")
        .computeIfAbsent("client", k -> new Held(vertx.createNetClient())).client();
  }

  /** A connection to {@code 127.0.0.1:port}. */
  public static Future<NetSocket> connect(Vertx vertx, int port) {
    return client(vertx).connect(port, "127.0.0.1");
  }
}
