// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.demo;

import io.vertx.core.buffer.Buffer;

/**
 * Finds the first binary block in one DBX message: {@code {"data":[N,} exactly, N raw bytes, then
 * {@code ]}} (backend-protocol.md, stream layout 3). Anything else with a {@code data} key is JSON.
 */
final class DataBlocks {

  /** Where a block's bytes start in the message, and how many there are. */
  record Block(int start, int length) { }

  private static final byte[] OPENING = {'{', '"', 'd', 'a', 't', 'a', '"', ':', '['};

  private DataBlocks() {
  }

  static Block find(Buffer msg) {
    int n = msg.length();
    outer:
    for (int i = 0; i + OPENING.length <= n; i++) {
      for (int k = 0; k < OPENING.length; k++) {
        if (msg.getByte(i + k) != OPENING[k]) {
          continue outer;
        }
      }
      int j = i + OPENING.length;
      long count = 0;
      int digits = j;
      while (j < n && msg.getByte(j) >= '0' && msg.getByte(j) <= '9' && count <= Integer.MAX_VALUE) {
        count = count * 10 + (msg.getByte(j) - '0');
        j++;
      }
      long close = j + 1 + count;
      if (j == digits || j >= n || msg.getByte(j) != ',' || close + 2 > n
          || msg.getByte((int) close) != ']' || msg.getByte((int) close + 1) != '}') {
        continue;
      }
      return new Block(j + 1, (int) count);
    }
    return null;
  }
}
