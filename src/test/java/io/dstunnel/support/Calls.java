// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.support;

import io.dstunnel.Dstunnel;
import io.dstunnel.demo.TunnelClient;
import io.vertx.core.Vertx;

/** A session that calls EchoString and says which server answered. */
public final class Calls {

  private final TunnelClient client;
  private final int echo;

  private Calls(TunnelClient client, int echo) {
    this.client = client;
    this.echo = echo;
  }

  /** Opens a session (handshake, prepare EchoString). */
  public static Calls open(Vertx vertx, Dstunnel proxy) {
    TunnelClient c = Proxies.client(vertx, proxy);
    c.handshake().await();
    return new Calls(c, c.prepare("EchoString").await());
  }

  /** The name of the server that answers the next call. */
  public String server() {
    String answer = (String) client.execute(echo, "who").await();
    return answer.substring(answer.indexOf("Server ") + 7, answer.length() - 1);
  }

  public void close() {
    client.close().await();
  }

  /** Opens a session, asks once, closes it. */
  public static String newSessionServer(Vertx vertx, Dstunnel proxy) {
    Calls c = open(vertx, proxy);
    String s = c.server();
    c.close();
    return s;
  }
}
