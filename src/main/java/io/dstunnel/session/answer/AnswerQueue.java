// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session.answer;

import io.vertx.core.buffer.Buffer;
import java.util.ArrayDeque;

/** Answer bytes accepted from the backend and not yet handed to a read, in order. */
final class AnswerQueue {

  private final ArrayDeque<Buffer> chunks = new ArrayDeque<>(1);  // grows when used: most sessions hold none or one
  private long size;

  void add(Buffer chunk) {
    if (chunk.length() > 0) {
      chunks.addLast(chunk);
      size += chunk.length();
    }
  }

  /** Puts bytes back at the head (a read whose HTTP answer could not be sent). */
  void pushBack(Buffer chunk) {
    chunks.addFirst(chunk);
    size += chunk.length();
  }

  long size() {
    return size;
  }

  boolean isEmpty() {
    return size == 0;
  }

  /** Removes and returns up to {@code max} bytes from the head (at least one: not empty). */
  Buffer take(int max) {
    Buffer head = chunks.peekFirst();
    if (head.length() <= max && (chunks.size() == 1 || head.length() == max)) {
      chunks.pollFirst();
      size -= head.length();
      return head;
    }
    Buffer out = Buffer.buffer((int) Math.min(max, size));
    while (out.length() < max && !chunks.isEmpty()) {
      Buffer c = chunks.pollFirst();
      int room = max - out.length();
      if (c.length() <= room) {
        out.appendBuffer(c);
      } else {
        out.appendBuffer(c, 0, room);
        chunks.addFirst(c.slice(room, c.length()));
      }
    }
    size -= out.length();
    return out;
  }

  void clear() {
    chunks.clear();
    size = 0;
  }
}
