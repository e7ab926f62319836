// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.framing;

import io.vertx.core.buffer.Buffer;

/**
 * Incremental finder of message boundaries in a DataSnap DBX byte stream (backend-protocol.md).
 *
 * <p>Bytes are fed chunk by chunk; for every complete message the framer reports the offset,
 * within the current chunk, just past its last byte. It keeps only a few scalars between chunks,
 * never the bytes themselves, so a message split at any byte boundary is found all the same.
 *
 * <p>Recognised: the 5-byte filter preamble ({@code 05 05 05 05 05} from a client,
 * {@code 06 00 00 00 00} or {@code 0D <len32> <json>} from a server), then top-level JSON objects
 * with optional whitespace between them, and binary blocks.
 *
 * <p>A binary block is an object that opens with exactly {@code {"data":[N,} and has {@code ]}}
 * right after its N raw bytes. Whether the closing {@code ]}} is there is known only N bytes
 * later, so from the opening on the framer reads two ways at once: as a block (counting N bytes)
 * and as ordinary JSON (see {@link JsonScan}). The block reading wins if {@code ]}} follows; the
 * JSON reading wins if it does not, or if it completes the whole message first (a value such as
 * {@code {"data":[9,"ab"]}} ends its message long before 9 bytes, and waiting for them would hang
 * the session), unless the bytes at hand already show the {@code ]}} at its place. Bytes that cannot be JSON (control bytes, say) end the JSON reading early, after
 * which the block's bytes are skipped without looking at them. A byte that cannot start a message
 * puts the framer out of step, which it reports with {@link FramingException}.
 */
public final class DbxFramer {

  /** Receives the end offset (exclusive, relative to the chunk) of each complete message. */
  @FunctionalInterface
  public interface MessageEnd {
    void at(int endOffset);
  }

  private enum Mode { PREAMBLE, PREAMBLE_LENGTH, PREAMBLE_BODY, BETWEEN, OBJECT }

  /** The exact opening of a block, up to its count. */
  private static final byte[] OPENING = {'{', '"', 'd', 'a', 't', 'a', '"', ':', '['};

  private Mode mode;
  private int preambleSeen;
  private int preambleLength;
  private long preambleSkip;
  private final JsonScan json = new JsonScan();
  private final BlockCandidate block = new BlockCandidate();

  public DbxFramer() {
    reset(true);
  }

  /**
   * Forgets all progress, as at the start of a new stream.
   *
   * @param preamble whether the stream starts with a 5-byte filter preamble (query or answer)
   */
  public void reset(boolean preamble) {
    mode = preamble ? Mode.PREAMBLE : Mode.BETWEEN;
    preambleSeen = 0;
    preambleLength = 0;
    preambleSkip = 0;
    json.reset();
    block.reset();
  }

  /** True between messages: no byte of an unfinished message has been seen. */
  public boolean atBoundary() {
    return mode == Mode.BETWEEN || (mode == Mode.PREAMBLE && preambleSeen == 0);
  }

  /** Scans {@code chunk} and calls {@code onEnd} once per message that ends inside it. */
  public void feed(Buffer chunk, MessageEnd onEnd) {
    int n = chunk.length();
    int i = 0;
    while (i < n) {
      switch (mode) {
        case PREAMBLE -> i = preamble(chunk, i, n, onEnd);
        case PREAMBLE_LENGTH -> {
          preambleLength = (preambleLength << 8) | (chunk.getByte(i++) & 0xFF);
          if (++preambleSeen == 5) {
            preambleSkip = Integer.toUnsignedLong(preambleLength);
            mode = Mode.PREAMBLE_BODY;
            if (preambleSkip == 0) {
              mode = Mode.BETWEEN;
              onEnd.at(i);
            }
          }
        }
        case PREAMBLE_BODY -> {
          long take = Math.min(preambleSkip, n - i);
          i += (int) take;
          preambleSkip -= take;
          if (preambleSkip == 0) {
            mode = Mode.BETWEEN;
            onEnd.at(i);
          }
        }
        case BETWEEN -> i = between(chunk, i, n);
        case OBJECT -> i = object(chunk, i, n, onEnd);
        default -> throw new IllegalStateException(mode.name());
      }
    }
  }

  private int preamble(Buffer chunk, int i, int n, MessageEnd onEnd) {
    if (preambleSeen == 0) {
      byte first = chunk.getByte(i);
      if (first != 0x05 && first != 0x06 && first != 0x0D) {
        // Not a filter exchange: the stream starts directly with messages.
        mode = Mode.BETWEEN;
        return i;
      }
      preambleSeen = 1;
      if (first == 0x0D) {
        mode = Mode.PREAMBLE_LENGTH;
        preambleLength = 0;
      }
      return i + 1;
    }
    while (i < n && preambleSeen < 5) {
      i++;
      preambleSeen++;
    }
    if (preambleSeen == 5) {
      mode = Mode.BETWEEN;
      onEnd.at(i);
    }
    return i;
  }

  private int between(Buffer chunk, int i, int n) {
    while (i < n) {
      byte c = chunk.getByte(i);
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        i++;
        continue;
      }
      if (c != '{') {
        throw new FramingException("stream out of step: expected '{' but got byte 0x"
            + Integer.toHexString(c & 0xFF));
      }
      mode = Mode.OBJECT;
      json.reset();
      block.reset();
      return i;
    }
    return i;
  }

  private int object(Buffer chunk, int i, int n, MessageEnd onEnd) {
    while (i < n) {
      if (block.skipping() && !json.valid()) {
        // Only the block reading is left: its bytes need no look.
        i += block.skip(n - i);
        continue;
      }
      byte c = chunk.getByte(i++);
      int depthBefore = json.depth();
      boolean structural = !json.inString();
      json.accept(c);
      switch (block.accept(c, structural, depthBefore)) {
        case CONFIRMED -> json.closeBlock(block.depthBefore());
        case REFUTED -> {
          if (!json.valid()) {
            throw new FramingException("stream out of step: a binary block is not closed by ]}");
          }
        }
        default -> { }
      }
      if (json.depth() == 0 && (json.valid() && !block.closesLaterIn(chunk, i) || block.idle())) {
        block.reset();
        mode = Mode.BETWEEN;
        onEnd.at(i);
        return i;
      }
      if (!json.valid() && block.idle()) {
        throw new FramingException("stream out of step: byte 0x" + Integer.toHexString(c & 0xFF)
            + " cannot stand in a JSON message");
      }
    }
    return i;
  }

  /**
   * The block reading: matches {@code {"data":[}, the count and its comma, skips the count's bytes
   * and checks for {@code ]}}. One candidate at a time: an opening inside a candidate's bytes is
   * taken as JSON.
   */
  private static final class BlockCandidate {

    enum Step { NONE, CONFIRMED, REFUTED }

    private int matched = -1;   // bytes of OPENING matched so far; -1 when idle
    private long count;
    private boolean digits;
    private long remaining = -1;  // bytes of the block still to come; -1 when not counting
    private int closing;          // bytes of "]}" seen after the block's bytes
    private int depthBefore;

    void reset() {
      matched = -1;
      remaining = -1;
      closing = 0;
      count = 0;
      digits = false;
    }

    boolean idle() {
      return matched < 0 && remaining < 0;
    }

    boolean skipping() {
      return remaining > 0;
    }

    int depthBefore() {
      return depthBefore;
    }

    /**
     * Whether {@code chunk} already shows this candidate's {@code ]}} at its place after
     * {@code from}: then the block reading wins even where the JSON reading ended the message.
     */
    boolean closesLaterIn(Buffer chunk, int from) {
      if (remaining < 0) {
        return false;
      }
      long at = from + remaining;
      for (int k = closing; k < 2; k++, at++) {
        if (at >= chunk.length() || chunk.getByte((int) at) != (k == 0 ? ']' : '}')) {
          return false;
        }
      }
      return true;
    }

    /** Skips up to {@code available} of the block's bytes; returns how many. */
    int skip(int available) {
      int take = (int) Math.min(remaining, available);
      remaining -= take;
      return take;
    }

    Step accept(byte c, boolean structural, int depth) {
      if (remaining > 0) {
        remaining--;
        return Step.NONE;
      }
      if (remaining == 0) {
        if (c == (closing == 0 ? ']' : '}')) {
          if (++closing == 2) {
            reset();
            return Step.CONFIRMED;
          }
          return Step.NONE;
        }
        reset();
        return Step.REFUTED;
      }
      if (matched < 0) {
        if (c == '{' && structural) {
          matched = 1;
          depthBefore = depth;
        }
        return Step.NONE;
      }
      if (matched < OPENING.length) {
        matched = c == OPENING[matched] ? matched + 1 : c == '{' && structural ? restart(depth) : -1;
        return Step.NONE;
      }
      if (c >= '0' && c <= '9' && count <= Integer.MAX_VALUE) {
        count = count * 10 + (c - '0');
        digits = true;
      } else if (c == ',' && digits) {
        remaining = count;
        closing = 0;
        matched = -1;
      } else {
        reset();
      }
      return Step.NONE;
    }

    private int restart(int depth) {
      depthBefore = depth;
      return 1;
    }
  }
}
