// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.support;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;

/**
 * A raw TCP server that misbehaves on purpose in front of a real demo server: it relays the
 * client's bytes to the demo server and the answers back, except that it can close every
 * connection at once, reset after a number of answer bytes, trickle answers one byte at a time,
 * or swallow requests and never answer.
 */
public final class MisbehavingBackend {

  /** What it does wrong. */
  public enum Mode {
    /** Accepts, then closes at once. */
    CLOSE_ON_ACCEPT,
    /** Relays answers until {@code limit} answer bytes have passed, then resets the connection. */
    RESET_AFTER_BYTES,
    /** Relays answers one byte per write, with a pause between bytes. */
    ONE_BYTE_AT_A_TIME,
    /** Reads everything and never answers. */
    HANG,
    /** Relays answers until {@code limit} answer bytes have passed, then swallows the rest. */
    HANG_AFTER_BYTES,
    /** Accepts and never reads a byte: what is written to it piles up in the sender. */
    NO_READ
  }

  private final Vertx vertx;
  private final Mode mode;
  private final int targetPort;
  private final long limit;
  private NetServer server;
  private io.vertx.core.net.NetClient upstreams;

  private MisbehavingBackend(Vertx vertx, Mode mode, int targetPort, long limit) {
    this.vertx = vertx;
    this.mode = mode;
    this.targetPort = targetPort;
    this.limit = limit;
  }

  public static MisbehavingBackend start(Vertx vertx, Mode mode, int targetPort, long limit) {
    MisbehavingBackend b = new MisbehavingBackend(vertx, mode, targetPort, limit);
    b.upstreams = vertx.createNetClient();
    // SO_LINGER 0: close() sends a reset instead of a FIN.
    b.server = vertx.createNetServer(new NetServerOptions().setHost("127.0.0.1").setPort(0)
        .setSoLinger(mode == Mode.RESET_AFTER_BYTES ? 0 : -1));
    b.server.connectHandler(b::accept);
    b.server.listen().await();
    return b;
  }

  public int port() {
    return server.actualPort();
  }

  public void stop() {
    server.close().await();
  }

  private void accept(NetSocket client) {
    switch (mode) {
      case CLOSE_ON_ACCEPT -> client.close();
      case HANG -> client.handler(b -> { });
      case NO_READ -> client.pause();
      default -> relay(client);
    }
  }

  private void relay(NetSocket client) {
    client.pause();
    upstreams.connect(targetPort, "127.0.0.1").onSuccess(upstream -> {
      client.handler(upstream::write);
      client.closeHandler(v -> upstream.close());
      upstream.closeHandler(v -> client.close());
      long[] passed = {0};
      Future<Void>[] tail = new Future[] {Future.succeededFuture()};
      upstream.handler(answer -> {
        if (mode == Mode.HANG_AFTER_BYTES) {
          long room = limit - passed[0];
          if (room > 0) {
            Buffer part = answer.length() > room ? answer.slice(0, (int) room) : answer;
            passed[0] += part.length();
            client.write(part);
          }
        } else if (mode == Mode.RESET_AFTER_BYTES) {
          long room = limit - passed[0];
          if (answer.length() >= room) {
            client.write(answer.slice(0, (int) room)).onComplete(v -> client.close());
            upstream.close();
            passed[0] = limit;
            return;
          }
          passed[0] += answer.length();
          client.write(answer);
        } else {
          for (int i = 0; i < answer.length(); i++) {
            Buffer one = answer.slice(i, i + 1);
            tail[0] = tail[0].compose(v -> vertx.timer(1)).compose(v -> client.write(one));
          }
        }
      });
      client.resume();
    }).onFailure(err -> client.close());
  }
}
