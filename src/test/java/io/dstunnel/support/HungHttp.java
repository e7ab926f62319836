// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.support;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import java.util.ArrayList;
import java.util.List;

/**
 * A REST port whose server hangs: it accepts connections and reads requests but answers none,
 * until {@link #wake} — then it runs what its open connections hold, as a server whose worker
 * threads were stuck runs the requests waiting on its sockets, and answers every request after
 * that at once ({@code {"result":[true]}}). A request whose connection was closed meanwhile is
 * never run. Bodiless requests only (the tests send GETs).
 */
public final class HungHttp {

  private static final Buffer ANSWER = Buffer.buffer("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
      + "Content-Length: 17\r\n\r\n{\"result\":[true]}");

  /** One accepted connection: the request lines read on it, and how many of them were answered. */
  private static final class Conn {
    final NetSocket socket;
    final StringBuilder pending = new StringBuilder();
    final List<String> requests = new ArrayList<>();
    int answered;
    boolean closed;

    Conn(NetSocket socket) {
      this.socket = socket;
    }
  }

  private final List<Conn> conns = new ArrayList<>();
  private NetServer server;
  private boolean awake;
  private int ran;

  private HungHttp() {
  }

  public static HungHttp start(Vertx vertx) {
    HungHttp h = new HungHttp();
    h.server = vertx.createNetServer(new NetServerOptions().setHost("127.0.0.1").setPort(0)).connectHandler(h::accept);
    h.server.listen().await();
    return h;
  }

  public int port() {
    return server.actualPort();
  }

  private synchronized void accept(NetSocket socket) {
    Conn c = new Conn(socket);
    conns.add(c);
    socket.handler(bytes -> read(c, bytes));
    socket.closeHandler(v -> closed(c));
  }

  private synchronized void read(Conn c, Buffer bytes) {
    c.pending.append(bytes.toString());
    int end;
    while ((end = c.pending.indexOf("\r\n\r\n")) >= 0) {
      String head = c.pending.substring(0, end);
      c.pending.delete(0, end + 4);
      c.requests.add(head.lines().findFirst().orElse(""));
    }
    if (awake) {
      answer(c);
    }
  }

  private synchronized void closed(Conn c) {
    c.closed = true;
  }

  private void answer(Conn c) {
    while (!c.closed && c.answered < c.requests.size()) {
      c.answered++;
      ran++;
      c.socket.write(ANSWER);
    }
  }

  /** Connections accepted so far. */
  public synchronized int connections() {
    return conns.size();
  }

  /** Connections still open. */
  public synchronized int open() {
    return (int) conns.stream().filter(c -> !c.closed).count();
  }

  /** Requests read so far whose request line contains {@code text}. */
  public synchronized int requests(String text) {
    return (int) conns.stream().flatMap(c -> c.requests.stream()).filter(r -> r.contains(text)).count();
  }

  /** Requests whose request line contains {@code text} that sit unanswered on connections the client has closed. */
  public synchronized int abandoned(String text) {
    return (int) conns.stream().filter(c -> c.closed)
        .flatMap(c -> c.requests.subList(c.answered, c.requests.size()).stream()).filter(r -> r.contains(text)).count();
  }

  /**
   * The server wakes up: it runs and answers the requests its open connections hold, and every
   * request from now on. Returns the requests it ran late whose request line contains {@code text}.
   */
  public synchronized int wake(String text) {
    awake = true;
    int late = 0;
    for (Conn c : conns) {
      if (!c.closed) {
        late += (int) c.requests.subList(c.answered, c.requests.size()).stream().filter(r -> r.contains(text)).count();
        answer(c);
      }
    }
    return late;
  }

  /** Requests answered so far (after waking). */
  public synchronized int ran() {
    return ran;
  }

  public void close() {
    server.close().await();
  }
}
