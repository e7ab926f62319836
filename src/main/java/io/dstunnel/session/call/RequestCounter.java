// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session.call;

import io.dstunnel.framing.DbxFramer;
import io.dstunnel.framing.Framing;
import io.dstunnel.framing.FramingException;
import io.vertx.core.buffer.Buffer;

/**
 * Counts the client's complete requests ("dbx"), so the session knows whether an answer is owed,
 * and remembers whether the stream began with the DBX filter query. With "raw" framing, or once
 * the client's bytes stop parsing as DBX, the count is unknown. Also used by a cluster node's
 * copy of a session, to know what an adopter must skip.
 */
public final class RequestCounter {

  /** Sees each complete client message ("dbx"): where it lies in the stream, and its first bytes. */
  interface MessageListener {
    /**
     * @param start offset of the message's first byte (whitespace before it included) in the stream
     * @param end offset just past its last byte
     * @param head its first bytes, up to {@link #HEAD_LIMIT}
     * @return whether it is a request, which the backend answers
     */
    boolean message(long start, long end, Buffer head);
  }

  /** How much of each message a listener sees. */
  static final int HEAD_LIMIT = 16 << 10;

  private final DbxFramer framer = new DbxFramer();
  private final Buffer head = Buffer.buffer(5);
  private boolean reliable;
  private long written;
  private long fed;
  private MessageListener listener;
  private long messageStart;
  private Buffer messageHead = Buffer.buffer();

  public RequestCounter(Framing framing) {
    this.reliable = framing == Framing.DBX;
  }

  public void listen(MessageListener l) {
    this.listener = l;
  }

  public void record(Buffer body) {
    if (head.length() < 5) {
      head.appendBuffer(body, 0, Math.min(body.length(), 5 - head.length()));
    }
    long base = fed;
    fed += body.length();
    if (!reliable) {
      return;
    }
    try {
      if (listener == null) {
        framer.feed(body, end -> written++);
        return;
      }
      int[] from = {0};
      framer.feed(body, end -> {
        keepHead(body, from[0], end);
        from[0] = end;
        long start = messageStart;
        messageStart = base + end;
        Buffer whole = messageHead;
        messageHead = Buffer.buffer();
        if (listener.message(start, base + end, whole)) {
          written++;
        }
      });
      keepHead(body, from[0], body.length());
    } catch (FramingException e) {
      reliable = false;
    }
  }

  private void keepHead(Buffer body, int from, int to) {
    int room = HEAD_LIMIT - messageHead.length();
    if (room > 0 && to > from) {
      messageHead.appendBuffer(body, from, Math.min(to - from, room));
    }
  }

  /** Whether requests can be counted at all. */
  public boolean reliable() {
    return reliable;
  }

  /** Complete requests written so far. */
  public long written() {
    return written;
  }

  /** No request is half-written. */
  public boolean atBoundary() {
    return framer.atBoundary();
  }

  /** Whether the stream began with the 5-byte filter query (so the answers begin with its reply). */
  public boolean startsWithFilterQuery() {
    if (head.length() < 5) {
      return false;
    }
    for (int i = 0; i < 5; i++) {
      if (head.getByte(i) != 0x05) {
        return false;
      }
    }
    return true;
  }
}
