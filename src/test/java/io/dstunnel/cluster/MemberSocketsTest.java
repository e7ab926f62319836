// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
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

  /**
   * After a timed-out handshake the member is not connected to again during its quiet time: each
   * attempt would hold JGroups' sending thread for the whole handshake time again.
   */
  @Test
  void aPeerThatTimedOutIsNotConnectedToAgainDuringItsQuietTime() throws Exception {
    try (ServerSocket silent = new ServerSocket(0, 50, LOOPBACK)) {
      List<Socket> accepted = new CopyOnWriteArrayList<>();
      Thread acceptor = new Thread(() -> {
        try {
          while (true) {
            accepted.add(silent.accept());  // held open, never read: a paused process
          }
        } catch (Exception closed) {
          // the listener closed at the test's end
        }
      });
      acceptor.start();
      TcpClient first = new TcpClient(LOOPBACK, 0, LOOPBACK, silent.getLocalPort());
      first.socketFactory(sockets);
      assertThatThrownBy(first::start).isInstanceOf(SocketTimeoutException.class);
      TcpClient again = new TcpClient(LOOPBACK, 0, LOOPBACK, silent.getLocalPort());
      again.socketFactory(sockets);
      assertThatThrownBy(again::start).isInstanceOf(SocketTimeoutException.class)
          .hasMessageContaining("quiet time");
      // A plain connection after both: the listener's second connection is this one, not the second attempt's.
      try (Socket probe = new Socket(LOOPBACK, silent.getLocalPort())) {
        await().atMost(Duration.ofSeconds(30)).until(() -> accepted.size() >= 2);
        assertThat(accepted.get(1).getPort()).as("the second connection's port").isEqualTo(probe.getLocalPort());
      }
      for (Socket s : accepted) {
        s.close();
      }
    }
    assertThat(MemberSockets.quietMs(1)).isEqualTo(2000);
    assertThat(MemberSockets.quietMs(3)).isEqualTo(6000);
    assertThat(MemberSockets.quietMs(40)).isEqualTo(MemberSockets.MAX_QUIET_MS);
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
