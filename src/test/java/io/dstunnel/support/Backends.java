// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.support;

import io.dstunnel.demo.DemoServerVerticle;
import io.vertx.core.Vertx;

/** A demo server on a loopback port that a test can kill and bring back on the same port. */
public final class Backends {

  /** One demo server. */
  public static final class Server {
    private final Vertx vertx;
    private final String name;
    private int port;
    private String deployment;

    Server(Vertx vertx, String name, int port) {
      this.vertx = vertx;
      this.name = name;
      this.port = port;
    }

    public Server start() {
      DemoServerVerticle v = new DemoServerVerticle("127.0.0.1", port, name);
      deployment = vertx.deployVerticle(v).await();
      port = v.actualPort();
      return this;
    }

    /** Closes the listener and every connection, as a crashed server would. */
    public void kill() {
      if (deployment != null) {
        vertx.undeploy(deployment).await();
        deployment = null;
      }
    }

    public int port() {
      return port;
    }

    public String name() {
      return name;
    }
  }

  private Backends() {
  }

  /**
   * A server on a port below the kernel's ephemeral range, so that an outgoing connection of any
   * process cannot take it while the server is down between {@link Server#kill} and a restart
   * (CI saw a restart on a port from that range fail: "Address already in use").
   */
  public static Server start(Vertx vertx, String name) {
    return new Server(vertx, name, freePort()).start();
  }

  /** {@link ProxyProcess#freePort}, for a server of a test's own that restarts on its port. */
  public static int freePort() {
    try {
      return ProxyProcess.freePort();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
