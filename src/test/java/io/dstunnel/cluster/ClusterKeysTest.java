// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.net.InetAddress;
import java.security.KeyStore;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What every node derives from the cluster's key, and the handshake it allows (real sockets on loopback). */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ClusterKeysTest {

  private static final String KEY = "unit-cluster-key-0123456789-abcdefghijklmnopqrstu";

  @Test
  void everyNodeDerivesTheSameCertificateFromTheSameKey() throws Exception {
    assertThat(certificate(new ClusterKeys(KEY))).isEqualTo(certificate(new ClusterKeys(KEY)));
    assertThat(certificate(new ClusterKeys(KEY))).isNotEqualTo(certificate(new ClusterKeys(KEY + "x")));
  }

  @Test
  void onlyAPeerHoldingTheSameKeyCompletesTheMutualHandshake() throws Exception {
    assertThat(handshake(new ClusterKeys(KEY), new ClusterKeys(KEY))).isTrue();
    assertThat(handshake(new ClusterKeys(KEY), new ClusterKeys("another-key-0123456789-abcdefghijklmnopq"))).isFalse();
  }

  private static byte[] certificate(ClusterKeys keys) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(new ByteArrayInputStream(keys.trustStore()), ClusterKeys.STORE_PASSWORD.toCharArray());
    return trust.getCertificate("cluster").getEncoded();
  }

  /** Whether a client with {@code client}'s key and a server with {@code server}'s (client auth needed) agree. */
  private static boolean handshake(ClusterKeys server, ClusterKeys client) throws Exception {
    try (SSLServerSocket listening = (SSLServerSocket) server.sslContext().getServerSocketFactory()
        .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      listening.setNeedClientAuth(true);
      CompletableFuture<Boolean> accepted = CompletableFuture.supplyAsync(() -> {
        try (SSLSocket s = (SSLSocket) listening.accept()) {
          s.startHandshake();
          s.getOutputStream().write(1);
          s.getOutputStream().flush();
          return true;
        } catch (Exception e) {
          return false;
        }
      });
      boolean connected;
      try (SSLSocket s = (SSLSocket) client.sslContext().getSocketFactory()
          .createSocket(InetAddress.getLoopbackAddress(), listening.getLocalPort())) {
        s.startHandshake();
        // TLS 1.3: the server's verdict on the client's certificate arrives after the client's handshake.
        connected = s.getInputStream().read() == 1;
      } catch (Exception e) {
        connected = false;
      }
      return connected && accepted.get(30, TimeUnit.SECONDS);
    }
  }
}
