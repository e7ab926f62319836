// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session.link;

import io.dstunnel.backend.Backend;
import io.dstunnel.backend.BackendConnector.Connection;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetSocket;

/**
 * A session's connection to its backend: the socket, why it is paused, and its write queue.
 * Every socket callback carries the epoch of the attachment it was registered for and is ignored
 * once the session has moved on (detached or attached elsewhere), so a late close or a late chunk
 * of a replaced socket can never touch the session.
 *
 * <p>Two reasons pause the socket, kept apart: the session's own unread answers are over the
 * per-session limit, or the proxy-wide answer budget is spent. It reads again only when neither
 * holds. While paused, the backend is not at fault for being silent ({@link #paused}).
 */
public final class BackendLink {

  /** What the session hears from its backend. */
  public interface Listener {
    void onBytes(Buffer chunk);

    /** The connection is gone: {@code error} for a reset or an I/O error, false for a close. */
    void onLost(String reason, boolean error);

    /** The write queue has room again. */
    void onDrain();
  }

  private final Listener listener;
  private final int writeQueueBytes;
  private Backend backend;
  private NetSocket socket;
  private long epoch;
  private boolean pausedForReader;
  private boolean pausedForBudget;
  private boolean answered;

  public BackendLink(Listener listener, int writeQueueBytes) {
    this.listener = listener;
    this.writeQueueBytes = writeQueueBytes;
  }

  /** Takes over {@code conn} and writes {@code replay} to it first (the session's whole log). */
  public void attach(Connection conn, Iterable<Buffer> replay) {
    long mine = ++epoch;
    backend = conn.backend();
    socket = conn.socket();
    backend.attached();
    NetSocket s = socket;
    s.setWriteQueueMaxSize(writeQueueBytes);
    s.handler(chunk -> {
      if (epoch == mine) {
        listener.onBytes(chunk);
      }
    });
    s.exceptionHandler(err -> {
      if (epoch == mine) {
        listener.onLost(err.getMessage() == null ? err.toString() : err.getMessage(), true);
      }
    });
    s.closeHandler(v -> {
      if (epoch == mine) {
        listener.onLost("connection closed", false);
      }
    });
    s.drainHandler(v -> {
      if (epoch == mine) {
        listener.onDrain();
      }
    });
    pausedForReader = false;
    answered = false;
    if (pausedForBudget) {
      apply(false);
    }
    for (Buffer chunk : replay) {
      s.write(chunk);
    }
  }

  /** Closes the socket, if any; its callbacks are ignored from now on. */
  public void detach() {
    epoch++;
    if (socket != null) {
      NetSocket s = socket;
      socket = null;
      backend.detached();
      s.close();
    }
  }

  /** True the first time it is asked after this connection's backend sent a byte: proof it serves. */
  public boolean firstAnswer() {
    if (answered) {
      return false;
    }
    answered = true;
    return true;
  }

  public boolean connected() {
    return socket != null;
  }

  /** The backend of the current or last connection (null before the first). */
  public Backend backend() {
    return backend;
  }

  public void write(Buffer bytes) {
    socket.write(bytes);
  }

  /** Whether a write now would go past the bounded write queue (false when not connected). */
  public boolean writeQueueFull() {
    return socket != null && socket.writeQueueFull();
  }

  /** Whether the proxy holds the socket paused (the backend's silence is then not its fault). */
  public boolean paused() {
    return pausedForReader || pausedForBudget;
  }

  public void pauseForReader(boolean pause) {
    boolean was = paused();
    pausedForReader = pause;
    apply(was);
  }

  public void pauseForBudget(boolean pause) {
    boolean was = paused();
    pausedForBudget = pause;
    apply(was);
  }

  public boolean pausedForBudget() {
    return pausedForBudget;
  }

  public boolean pausedForReader() {
    return pausedForReader;
  }

  private void apply(boolean was) {
    if (socket == null || was == paused()) {
      return;
    }
    // NetSocket.pause() alone lets Vert.x keep reading into its own queues (some 24 chunks, up to
    // 1.5 MiB per socket) before the channel stops; the budget needs reading to stop now, so the
    // channel's auto-read goes off with it (and back on before Vert.x drains what it queued).
    var channel = ((NetSocketInternal) socket).channelHandlerContext().channel();
    if (paused()) {
      socket.pause();
      channel.config().setAutoRead(false);
    } else {
      channel.config().setAutoRead(true);
      socket.resume();
    }
  }
}
