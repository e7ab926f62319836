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
 * on. The accepting side needs nothing: JGroups reads a new connection's first bytes (the
 * handshake with them) within a second.
 */
final class MemberSockets extends DefaultSocketFactory {

  private static final Logger LOG = LoggerFactory.getLogger(MemberSockets.class);

  /** As long as JGroups gives the TCP connect ({@code sock_conn_timeout}). */
  static final int HANDSHAKE_MS = 2000;

  private final SSLSocketFactory tls;

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
    return new Client(tls);
  }

  /**
   * A plain socket that speaks TLS over itself once connected, with its read timeout bounding the
   * handshake. Not an {@code SSLSocket}: JGroups starts the handshake of those itself, unbounded.
   */
  static final class Client extends Socket {

    private final SSLSocketFactory factory;
    private volatile SSLSocket tls;

    Client(SSLSocketFactory factory) {
      this.factory = factory;
    }

    @Override
    public void connect(SocketAddress endpoint, int timeout) throws IOException {
      super.connect(endpoint, timeout);
      InetSocketAddress to = (InetSocketAddress) endpoint;
      try {
        // Closed at once, without waiting for a peer that reads nothing (JGroups does the same
        // for its own TLS sockets: JGRP-2748).
        setSoLinger(true, 0);
        SSLSocket s = (SSLSocket) factory.createSocket(this, to.getHostString(), to.getPort(), true);
        s.setEnabledProtocols(ClusterKeys.PROTOCOLS);
        int before = getSoTimeout();
        setSoTimeout(HANDSHAKE_MS);
        s.startHandshake();
        setSoTimeout(before);
        tls = s;
      } catch (SocketTimeoutException e) {
        super.close();
        LOG.warn("cluster: member at {} took a connection but did not complete its TLS handshake within {} ms "
            + "(paused, or overloaded): connection dropped, tried again later", endpoint, HANDSHAKE_MS);
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
