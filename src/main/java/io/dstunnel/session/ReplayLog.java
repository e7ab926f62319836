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
  /** Ranges [start, end) of the stream left out of a replay, in order. */
  private final List<long[]> excluded = new ArrayList<>();
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
    excluded.clear();
  }

  /**
   * Leaves the stream's bytes [start, end) out of every later replay: a call that must not run
   * again ({@code session.replaySkip}), or a channel client's answer to a push.
   */
  void exclude(long start, long end) {
    if (!replayable || end <= start) {
      return;
    }
    int i = excluded.size();
    while (i > 0 && excluded.get(i - 1)[0] > start) {
      i--;
    }
    excluded.add(i, new long[] {start, end});
  }

  boolean replayable() {
    return replayable;
  }

  long bytes() {
    return bytes;
  }

  /** Every chunk as the client wrote it, nothing left out (what a cluster copy holds). */
  List<Buffer> raw() {
    return chunks;
  }

  /** What a replay writes: every chunk, with the excluded ranges cut out (slices, no copy). */
  List<Buffer> chunks() {
    if (excluded.isEmpty()) {
      return chunks;
    }
    List<Buffer> out = new ArrayList<>(chunks.size() + excluded.size());
    int x = 0;
    long offset = 0;
    for (Buffer c : chunks) {
      long cEnd = offset + c.length();
      long pos = offset;
      while (pos < cEnd) {
        while (x < excluded.size() && excluded.get(x)[1] <= pos) {
          x++;
        }
        long cutStart = x < excluded.size() ? Math.max(excluded.get(x)[0], pos) : cEnd;
        if (cutStart >= cEnd) {
          out.add(pos == offset ? c : c.slice((int) (pos - offset), c.length()));
          break;
        }
        if (cutStart > pos) {
          out.add(c.slice((int) (pos - offset), (int) (cutStart - offset)));
        }
        pos = Math.min(cEnd, excluded.get(x)[1]);
      }
      offset = cEnd;
    }
    return out;
  }
}
