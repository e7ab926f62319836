// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.soak;

import io.dstunnel.demo.DemoServerVerticle;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import java.util.HashSet;
import java.util.Set;

/**
 * A demo server behind a relay the chaos driver controls: up (relays both ways), down (listener
 * and every connection closed, as a crash), or hung (accepts and reads, never answers). All its
 * methods run on the Vert.x context that created it.
 */
final class ChaosBackend {

  enum State { UP, DOWN, HUNG }

  private final Vertx vertx;
  final String name;
  private int port;
  private int demoPort;
  private NetServer relay;
  private State state = State.DOWN;
  private final Set<NetSocket> sockets = new HashSet<>();
  private NetClient upstreams;

  ChaosBackend(Vertx vertx, String name) {
    this.vertx = vertx;
    this.name = name;
  }

  Future<Void> init() {
    upstreams = vertx.createNetClient();
    DemoServerVerticle demo = new DemoServerVerticle("127.0.0.1", 0, name);
    return vertx.deployVerticle(demo).compose(id -> {
      demoPort = demo.actualPort();
      return up();
    });
  }

  int port() {
    return port;
  }

  State state() {
    return state;
  }

  Future<Void> up() {
    if (state == State.HUNG) {
      closeAll();
    }
    if (relay != null) {
      state = State.UP;
      return Future.succeededFuture();
    }
    relay = vertx.createNetServer(new NetServerOptions().setHost("127.0.0.1").setPort(port));
    relay.connectHandler(this::accept);
    return relay.listen().map(s -> {
      port = s.actualPort();
      state = State.UP;
      return null;
    });
  }

  Future<Void> down() {
    state = State.DOWN;
    closeAll();
    NetServer r = relay;
    relay = null;
    return r == null ? Future.succeededFuture() : r.close();
  }

  void hang() {
    state = State.HUNG;
  }

  private void closeAll() {
    Set.copyOf(sockets).forEach(NetSocket::close);
    sockets.clear();
  }

  private void accept(NetSocket client) {
    sockets.add(client);
    client.exceptionHandler(err -> client.close());
    client.closeHandler(v -> sockets.remove(client));
    client.pause();
    upstreams.connect(demoPort, "127.0.0.1").onComplete(ar -> {
      if (ar.failed()) {
        client.close();
        return;
      }
      NetSocket upstream = ar.result();
      sockets.add(upstream);
      upstream.exceptionHandler(err -> upstream.close());
      upstream.closeHandler(v -> {
        sockets.remove(upstream);
        client.close();
      });
      client.closeHandler(v -> {
        sockets.remove(client);
        upstream.close();
      });
      client.handler(upstream::write);
      upstream.handler(answer -> {
        if (state == State.UP) {
          client.write(answer);
        }
      });
      client.resume();
    });
  }
}
