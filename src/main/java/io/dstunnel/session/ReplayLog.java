package io.dstunnel.session;

import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Every byte the client wrote since the session opened, to be written again to a standby.
 * Holds the client's own buffers (no copy). Once over its cap it is dropped for good: the session
 * works on but can no longer fail over. May hold secrets (a DBX connect carries credentials):
 * never logged, never exposed, cleared when the session ends.
 */
final class ReplayLog {

  private final long cap;
  private final List<Buffer> chunks = new ArrayList<>();
  private long bytes;
  private boolean replayable = true;

  ReplayLog(long cap) {
    this.cap = cap;
  }

  void append(Buffer chunk) {
    if (replayable) {
      chunks.add(chunk);
      bytes += chunk.length();
    }
  }

  /** True when the log has grown past its cap and is still held (it can then be dropped). */
  boolean overCap() {
    return replayable && bytes > cap;
  }

  /** Drops the log (over its cap, or the session ended): from now on nothing can be replayed. */
  void drop() {
    replayable = false;
    chunks.clear();
  }

  boolean replayable() {
    return replayable;
  }

  long bytes() {
    return bytes;
  }

  List<Buffer> chunks() {
    return chunks;
  }
}
