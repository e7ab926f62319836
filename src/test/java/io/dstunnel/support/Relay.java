// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.support;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP relay in front of a demo server that keeps every byte its clients sent, to check what a
 * backend was (and was not) asked to run, and what it answered. It can also hold a backend's
 * answers back on purpose ({@link #withholdAfter}).
 */
public final class Relay {

  private final Vertx vertx;
  private final int target;
  private final Set<NetSocket> clients = ConcurrentHashMap.newKeySet();
  private final StringBuffer received = new StringBuffer();
  private final StringBuffer answered = new StringBuffer();
  private NetServer server;
  private NetClient upstreams;
  private volatile String withholdAfter;

  private Relay(Vertx vertx, int target) {
    this.vertx = vertx;
    this.target = target;
  }

  public static Relay start(Vertx vertx, int target) {
    Relay r = new Relay(vertx, target);
    r.upstreams = vertx.createNetClient();
    r.server = vertx.createNetServer(new NetServerOptions().setHost("127.0.0.1").setPort(0));
    r.server.connectHandler(r::accept);
    r.server.listen().await();
    return r;
  }

  private void accept(NetSocket client) {
    clients.add(client);
    client.pause();
    boolean[] withholding = {false};
    upstreams.connect(target, "127.0.0.1").onSuccess(up -> {
      client.handler(bytes -> {
        String text = bytes.toString(java.nio.charset.StandardCharsets.ISO_8859_1);
        received.append(text);
        String marker = withholdAfter;
        withholding[0] |= marker != null && text.contains(marker);
        up.write(bytes);
      });
      up.handler(bytes -> {
        if (withholding[0]) {
          return;
        }
        answered.append(bytes.toString(java.nio.charset.StandardCharsets.ISO_8859_1));
        client.write(bytes);
      });
      client.closeHandler(v -> {
        clients.remove(client);
        up.close();
      });
      up.closeHandler(v -> client.close());
      client.resume();
    }).onFailure(err -> client.close());
  }

  public int port() {
    return server.actualPort();
  }

  /**
   * From now on, a connection whose client sends {@code marker} gets no more answer bytes: the
   * backend's answer to that request, and any after it, never arrive (a backend that hangs).
   */
  public Relay withholdAfter(String marker) {
    this.withholdAfter = marker;
    return this;
  }

  /** Everything the relay's clients sent, over every connection. */
  public String received() {
    return received.toString();
  }

  /** Times {@code text} occurs in what the clients sent. */
  public int count(String text) {
    String all = received();
    int n = 0;
    for (int i = all.indexOf(text); i >= 0; i = all.indexOf(text, i + 1)) {
      n++;
    }
    return n;
  }

  /** Whether the backend has sent {@code text} back through the relay. */
  public boolean answered(String text) {
    return answered.indexOf(text) >= 0;
  }

  public void close() {
    server.close().await();
    clients.forEach(NetSocket::close);
  }
}
