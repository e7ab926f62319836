// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import org.jgroups.util.DefaultSocketFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The member connections' sockets (JGroups TCP over the cluster's mutual TLS), with a time limit on
 * the TLS handshake of a connection this node opens. JGroups opens a connection to a member from
 * its one sending thread and, over TLS, waits for the handshake with no limit. To a member whose
 * process is paused (a frozen VM, a long GC, {@code SIGSTOP}) the TCP connect succeeds, the kernel
 * accepting for it, and the handshake waits until the member wakes. Every message of this node
 * waits behind it, its heartbeats to the others too: once a paused member had been removed, the
 * next connection to it (discovery and merge probes keep asking) held the survivors' heartbeats
 * back until they took each other out, and the cluster fell apart into single nodes. Here the
 * handshake fails after {@link #HANDSHAKE_MS}, as a connect that times out does, and JGroups goes
 * on. JGroups asks again at once for the next message to that member: a member whose handshake
 * timed out is not connected to again for a quiet time growing with each timeout in a row
 * ({@link #quietMs}), so that a long pause does not hold this node's messages back two seconds
 * out of two. A paused member that wakes connects to the others itself. The accepting side needs
 * nothing: JGroups reads a new connection's first bytes (the handshake with them) within a second.
 */
final class MemberSockets extends DefaultSocketFactory {

  private static final Logger LOG = LoggerFactory.getLogger(MemberSockets.class);

  /** As long as JGroups gives the TCP connect ({@code sock_conn_timeout}). */
  static final int HANDSHAKE_MS = 2000;

  /** The longest quiet time after timed-out handshakes in a row. */
  static final long MAX_QUIET_MS = 10_000;

  private final SSLSocketFactory tls;
  /** Members whose last handshakes timed out: how many in a row, and until when not to connect. */
  private final Map<SocketAddress, Quiet> quiet = new ConcurrentHashMap<>();

  private record Quiet(int timeouts, long untilNanos) {
  }

  MemberSockets(SSLContext context) {
    super(context);
    this.tls = context.getSocketFactory();
    SSLParameters accepting = new SSLParameters();
    accepting.setProtocols(ClusterKeys.PROTOCOLS);
    accepting.setNeedClientAuth(true);  // both sides present the cluster's certificate
    setServerSocketConfigurator(s -> ((SSLServerSocket) s).setSSLParameters(accepting));
  }

  @Override
  public Socket createSocket(String serviceName) {
    return new Client(this);
  }

  /** The quiet time after {@code timeouts} timed-out handshakes in a row: 2 s more each, 10 s at most. */
  static long quietMs(int timeouts) {
    return Math.min(MAX_QUIET_MS, (long) HANDSHAKE_MS * timeouts);
  }

  /** Throws if {@code member} is in its quiet time. */
  private void mayConnect(SocketAddress member) throws SocketTimeoutException {
    Quiet q = quiet.get(member);
    if (q != null && System.nanoTime() - q.untilNanos < 0) {
      throw new SocketTimeoutException("member at " + member + " did not complete its last TLS handshake: "
          + "not connected to again before its quiet time ends");
    }
  }

  private void timedOut(SocketAddress member) {
    Quiet q = quiet.compute(member, (m, last) -> {
      int timeouts = last == null ? 1 : last.timeouts() + 1;
      return new Quiet(timeouts, System.nanoTime() + quietMs(timeouts) * 1_000_000);
    });
    long ms = quietMs(q.timeouts());
    LOG.warn("cluster: member at {} took a connection but did not complete its TLS handshake within {} ms "
        + "(paused, overloaded, or its accepting thread held up): connection dropped, tried again in {} ms", member,
        HANDSHAKE_MS, ms);
  }

  /**
   * A plain socket that speaks TLS over itself once connected, with its read timeout bounding the
   * handshake. Not an {@code SSLSocket}: JGroups starts the handshake of those itself, unbounded.
   */
  static final class Client extends Socket {

    private final MemberSockets sockets;
    private volatile SSLSocket tls;

    Client(MemberSockets sockets) {
      this.sockets = sockets;
    }

    @Override
    public void connect(SocketAddress endpoint, int timeout) throws IOException {
      try {
        sockets.mayConnect(endpoint);
      } catch (SocketTimeoutException e) {
        super.close();
        throw e;
      }
      super.connect(endpoint, timeout);
      InetSocketAddress to = (InetSocketAddress) endpoint;
      try {
        // Closed at once, without waiting for a peer that reads nothing (JGroups does the same
        // for its own TLS sockets: JGRP-2748).
        setSoLinger(true, 0);
        SSLSocket s = (SSLSocket) sockets.tls.createSocket(this, to.getHostString(), to.getPort(), true);
        s.setEnabledProtocols(ClusterKeys.PROTOCOLS);
        int before = getSoTimeout();
        setSoTimeout(HANDSHAKE_MS);
        s.startHandshake();
        setSoTimeout(before);
        tls = s;
        sockets.quiet.remove(endpoint);
      } catch (SocketTimeoutException e) {
        super.close();
        sockets.timedOut(endpoint);
        throw e;
      } catch (IOException | RuntimeException e) {
        super.close();
        throw e;
      }
    }

    @Override
    public InputStream getInputStream() throws IOException {
      SSLSocket s = tls;
      return s != null ? s.getInputStream() : super.getInputStream();
    }

    @Override
    public OutputStream getOutputStream() throws IOException {
      SSLSocket s = tls;
      return s != null ? s.getOutputStream() : super.getOutputStream();
    }

    @Override
    public synchronized void close() throws IOException {
      SSLSocket s = tls;
      tls = null;
      if (s != null) {
        s.close();  // closes this socket too (layered with autoClose), which comes back here
      } else {
        super.close();
      }
    }
  }
}
