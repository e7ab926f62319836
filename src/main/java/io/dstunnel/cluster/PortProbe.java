// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import io.netty.channel.ConnectTimeoutException;
import io.vertx.core.Future;
import io.vertx.core.net.ConnectOptions;
import io.vertx.core.net.NetClient;

/**
 * Tells a dead process from an unreachable one by a connect to its port (cluster.md §7): refused
 * means nobody listens there any more (the process is gone); an answer, or no answer at all (a
 * timeout: a cut network, a black-holed peer, a full accept queue) means it may still run.
 */
final class PortProbe {

  /** How long a probe waits for the peer's answer before it says "unknown". */
  static final int TIMEOUT_MS = 1000;

  private PortProbe() {
  }

  /** What a connect to a port found. */
  enum State {
    /** It was accepted: a process listens there. */
    ACCEPTS,
    /** It was refused: nobody listens there any more. */
    REFUSES,
    /** No answer in time, or another failure: it proves nothing. */
    UNKNOWN
  }

  /**
   * What a connect to {@code host:port} finds; a timeout is never a refusal. With {@code tls} it
   * succeeds only once the TLS handshake (with {@code client}'s key and trust) is done.
   */
  static Future<State> state(NetClient client, boolean tls, String host, int port) {
    return client.connect(new ConnectOptions().setHost(host).setPort(port).setTimeout(TIMEOUT_MS).setSsl(tls))
        .map(socket -> {
          socket.close();
          return State.ACCEPTS;
        })
        // Netty's ConnectTimeoutException is a ConnectException: a timeout must not read as a refusal.
        .otherwise(err -> !(err instanceof ConnectTimeoutException)
            && String.valueOf(err.getMessage()).toLowerCase(java.util.Locale.ROOT).contains("refused")
            ? State.REFUSES : State.UNKNOWN);
  }
}
