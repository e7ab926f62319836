// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.jgroups.blocks.cs.TcpClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The member connections' sockets, on loopback: a handshake that completes, one that never does. */
// A separate thread: a connect that hangs (the defect) fails the test rather than the build.
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class MemberSocketsTest {

  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

  private final MemberSockets sockets =
      new MemberSockets(new ClusterKeys("a-secret-for-the-tests-only-0123456789").sslContext());

  @Test
  void twoMembersHoldingTheKeyTalkOverTls() throws Exception {
    try (ServerSocket server = sockets.createServerSocket("test", 0, 50, LOOPBACK)) {
      CompletableFuture<Integer> echoed = CompletableFuture.supplyAsync(() -> {
        try (Socket accepted = server.accept()) {
          int n = new DataInputStream(accepted.getInputStream()).readInt();
          new DataOutputStream(accepted.getOutputStream()).writeInt(n + 1);
          return n;
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      try (Socket client = sockets.createSocket("test")) {
        // As JGroups connects: a socket that is no SSLSocket gets no handshake of JGroups' own.
        assertThat(client).isNotInstanceOf(SSLSocket.class);
        client.connect(new InetSocketAddress(LOOPBACK, server.getLocalPort()), 2000);
        new DataOutputStream(client.getOutputStream()).writeInt(41);
        assertThat(new DataInputStream(client.getInputStream()).readInt()).isEqualTo(42);
        assertThat(client.getSoTimeout()).as("reads after the handshake wait as long as they need").isZero();
      }
      assertThat(echoed.get()).isEqualTo(41);
    }
  }

  /**
   * A paused process: the kernel completes the TCP connect for it, and nobody reads or answers.
   * JGroups' own connect (its {@code TcpClient}, as a node connects to a member) gives it up after
   * the bounded handshake; with JGroups' TLS sockets it waited for as long as the peer slept.
   */
  @Test
  void aPeerThatTakesTheConnectionAndSaysNothingIsGivenUpOn() throws Exception {
    try (ServerSocket silent = new ServerSocket(0, 50, LOOPBACK)) {
      TcpClient client = new TcpClient(LOOPBACK, 0, LOOPBACK, silent.getLocalPort());
      client.socketFactory(sockets);
      assertThatThrownBy(client::start).isInstanceOf(SocketTimeoutException.class);
      assertThat(client.isConnected()).isFalse();
    }
  }

  @Test
  void aPeerWithoutTheKeyIsRefused() throws Exception {
    MemberSockets other = new MemberSockets(new ClusterKeys("another-secret-for-the-tests-0123456789").sslContext());
    try (ServerSocket server = other.createServerSocket("test", 0, 50, LOOPBACK);
         Socket client = sockets.createSocket("test")) {
      CompletableFuture.runAsync(() -> {
        try (Socket accepted = server.accept()) {
          accepted.getInputStream().read();
        } catch (Exception expected) {
          // the handshake fails on this side too
        }
      });
      assertThatThrownBy(() -> client.connect(new InetSocketAddress(LOOPBACK, server.getLocalPort()), 2000))
          .isInstanceOf(java.io.IOException.class).isNotInstanceOf(SocketTimeoutException.class);
    }
  }
}
