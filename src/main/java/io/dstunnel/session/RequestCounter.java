package io.dstunnel.session;

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

  private final DbxFramer framer = new DbxFramer();
  private final Buffer head = Buffer.buffer(5);
  private boolean reliable;
  private long written;

  public RequestCounter(Framing framing) {
    this.reliable = framing == Framing.DBX;
  }

  public void record(Buffer body) {
    if (head.length() < 5) {
      head.appendBuffer(body, 0, Math.min(body.length(), 5 - head.length()));
    }
    if (reliable) {
      try {
        framer.feed(body, end -> written++);
      } catch (FramingException e) {
        reliable = false;
      }
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
  boolean atBoundary() {
    return framer.atBoundary();
  }

  /** Whether the stream began with the 5-byte filter query (so the answers begin with its reply). */
  boolean startsWithFilterQuery() {
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
