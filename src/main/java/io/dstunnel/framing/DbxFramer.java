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
 * with optional whitespace between them, and binary blocks {@code {"data":[N,<N raw bytes>]}}
 * whose N bytes are skipped unparsed. A byte that cannot start a message puts the framer out of
 * step, which it reports with {@link FramingException}.
 */
public final class DbxFramer {

  /** Receives the end offset (exclusive, relative to the chunk) of each complete message. */
  @FunctionalInterface
  public interface MessageEnd {
    void at(int endOffset);
  }

  private enum Mode { PREAMBLE, PREAMBLE_LENGTH, PREAMBLE_BODY, BETWEEN, OBJECT, DATA_COUNT, DATA_SKIP }

  private static final byte[] DATA_KEY = {'d', 'a', 't', 'a'};

  private Mode mode;
  private int preambleSeen;
  private int preambleLength;
  private long skip;
  private int depth;
  private boolean inString;
  private boolean escape;
  // Detection of `"data" : [` outside strings: the last string's match, then the colon.
  private int keyMatch;
  private boolean lastStringWasData;
  private boolean afterDataColon;
  private long dataCount;
  private boolean dataDigits;

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
    skip = 0;
    depth = 0;
    inString = false;
    escape = false;
    keyMatch = -1;
    lastStringWasData = false;
    afterDataColon = false;
    dataCount = 0;
    dataDigits = false;
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
            skip = Integer.toUnsignedLong(preambleLength);
            mode = Mode.PREAMBLE_BODY;
            if (skip == 0) {
              mode = Mode.BETWEEN;
              onEnd.at(i);
            }
          }
        }
        case PREAMBLE_BODY -> {
          long take = Math.min(skip, n - i);
          i += (int) take;
          skip -= take;
          if (skip == 0) {
            mode = Mode.BETWEEN;
            onEnd.at(i);
          }
        }
        case BETWEEN -> i = between(chunk, i, n);
        case OBJECT -> i = object(chunk, i, n, onEnd);
        case DATA_COUNT -> i = dataCount(chunk, i, n);
        case DATA_SKIP -> {
          long take = Math.min(skip, n - i);
          i += (int) take;
          skip -= take;
          if (skip == 0) {
            mode = Mode.OBJECT;
          }
        }
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
      depth = 0;
      inString = false;
      escape = false;
      lastStringWasData = false;
      afterDataColon = false;
      return i;
    }
    return i;
  }

  private int object(Buffer chunk, int i, int n, MessageEnd onEnd) {
    while (i < n) {
      byte c = chunk.getByte(i++);
      if (inString) {
        if (escape) {
          escape = false;
          keyMatch = -1;
        } else if (c == '\\') {
          escape = true;
        } else if (c == '"') {
          inString = false;
          lastStringWasData = keyMatch == DATA_KEY.length;
        } else if (keyMatch >= 0 && keyMatch < DATA_KEY.length && c == DATA_KEY[keyMatch]) {
          keyMatch++;
        } else {
          keyMatch = -1;
        }
        continue;
      }
      switch (c) {
        case '"' -> {
          inString = true;
          keyMatch = 0;
          afterDataColon = false;
        }
        case ':' -> {
          afterDataColon = lastStringWasData;
          lastStringWasData = false;
        }
        case ' ', '\t', '\r', '\n' -> { }
        case '{' -> {
          depth++;
          clearKey();
        }
        case '[' -> {
          depth++;
          boolean block = afterDataColon;
          clearKey();
          if (block) {
            mode = Mode.DATA_COUNT;
            dataCount = 0;
            dataDigits = false;
            return i;
          }
        }
        case '}', ']' -> {
          clearKey();
          if (--depth == 0) {
            mode = Mode.BETWEEN;
            onEnd.at(i);
            return i;
          }
        }
        default -> clearKey();
      }
    }
    return i;
  }

  private int dataCount(Buffer chunk, int i, int n) {
    while (i < n) {
      byte c = chunk.getByte(i);
      if (c >= '0' && c <= '9') {
        dataCount = dataCount * 10 + (c - '0');
        if (dataCount > Integer.MAX_VALUE) {
          throw new FramingException("binary block larger than 2 GiB");
        }
        dataDigits = true;
        i++;
      } else if (!dataDigits && (c == ' ' || c == '\t' || c == '\r' || c == '\n')) {
        i++;
      } else if (dataDigits && c == ',') {
        skip = dataCount;
        mode = skip == 0 ? Mode.OBJECT : Mode.DATA_SKIP;
        return i + 1;
      } else {
        // An ordinary array after "data": scan it as JSON from here on.
        mode = Mode.OBJECT;
        return i;
      }
    }
    return i;
  }

  private void clearKey() {
    lastStringWasData = false;
    afterDataColon = false;
  }
}
