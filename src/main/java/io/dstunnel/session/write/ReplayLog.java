// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session.write;

import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Every byte the client wrote since the session opened, to be written again to a standby.
 * Holds the client's own buffers (no copy). Once over its cap it is dropped for good: the session
 * works on but can no longer fail over. May hold secrets (a DBX connect carries credentials):
 * never logged, never exposed, cleared when the session ends.
 */
public final class ReplayLog {

  private final long cap;
  private final List<Buffer> chunks = new ArrayList<>();
  /** Ranges [start, end) of the stream left out of a replay, in order. */
  private final List<long[]> excluded = new ArrayList<>();
  /** The same ranges in the order they were left out (what a cluster copy is told, a few at a time). */
  private final List<long[]> excludedInOrder = new ArrayList<>();
  private long bytes;
  private boolean replayable = true;

  public ReplayLog(long cap) {
    this.cap = cap;
  }

  public void append(Buffer chunk) {
    if (replayable) {
      chunks.add(chunk);
      bytes += chunk.length();
    }
  }

  /** True when the log has grown past its cap and is still held (it can then be dropped). */
  public boolean overCap() {
    return replayable && bytes > cap;
  }

  /** Drops the log (over its cap, or the session ended): from now on nothing can be replayed. */
  public void drop() {
    replayable = false;
    chunks.clear();
    excluded.clear();
    excludedInOrder.clear();
  }

  /**
   * Leaves the stream's bytes [start, end) out of every later replay: a call that must not run
   * again ({@code session.replaySkip}), or a channel client's answer to a push.
   */
  public void exclude(long start, long end) {
    if (!replayable || end <= start) {
      return;
    }
    int i = excluded.size();
    while (i > 0 && excluded.get(i - 1)[0] > start) {
      i--;
    }
    excluded.add(i, new long[] {start, end});
    excludedInOrder.add(new long[] {start, end});
  }

  /** Whether the stream's bytes [start, end) are left out of replays already (a copy said so). */
  public boolean excludes(long start, long end) {
    for (long[] r : excluded) {
      if (r[0] <= start && end <= r[1]) {
        return true;
      }
    }
    return false;
  }

  /** How many ranges have been left out so far. */
  public int exclusions() {
    return excludedInOrder.size();
  }

  /** The ranges left out after the first {@code from}, in the order they were: {start, end, start, end, …}. */
  public List<Long> exclusionsSince(int from) {
    List<Long> out = new ArrayList<>();
    for (int i = from; i < excludedInOrder.size(); i++) {
      out.add(excludedInOrder.get(i)[0]);
      out.add(excludedInOrder.get(i)[1]);
    }
    return out;
  }

  public boolean replayable() {
    return replayable;
  }

  public long bytes() {
    return bytes;
  }

  /** Every chunk as the client wrote it, nothing left out (what a cluster copy holds). */
  public List<Buffer> raw() {
    return chunks;
  }

  /** What a replay writes: every chunk, with the excluded ranges cut out (slices, no copy). */
  public List<Buffer> chunks() {
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
