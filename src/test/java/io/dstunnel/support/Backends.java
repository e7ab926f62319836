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

  public static Server start(Vertx vertx, String name) {
    return new Server(vertx, name, 0).start();
  }
}
