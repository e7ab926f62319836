// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.framing;

import io.vertx.core.buffer.Buffer;
import java.util.function.Consumer;

/**
 * Whole DBX messages out of a byte stream that arrives in chunks: the {@link DbxFramer} finds
 * where each ends, this keeps the bytes of the one not yet complete. For the peers that need the
 * messages themselves (the demo server, dstunnel's own broadcast connections, the demo client),
 * not for the session, which streams bytes through.
 */
public final class DbxMessages {

  private final DbxFramer framer = new DbxFramer();
  private Buffer partial = Buffer.buffer();

  /** Starts afresh; {@code preamble}: the stream begins with a 5-byte filter preamble. */
  public void reset(boolean preamble) {
    framer.reset(preamble);
    partial = Buffer.buffer();
  }

  /** Hands each message that {@code chunk} completes to {@code onMessage}, in order. */
  public void feed(Buffer chunk, Consumer<Buffer> onMessage) {
    int[] start = {0};
    framer.feed(chunk, end -> {
      partial.appendBuffer(chunk, start[0], end - start[0]);
      start[0] = end;
      Buffer message = partial;
      partial = Buffer.buffer();
      onMessage.accept(message);
    });
    partial.appendBuffer(chunk, start[0], chunk.length() - start[0]);
  }
}
