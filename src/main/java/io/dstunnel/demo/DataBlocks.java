package io.dstunnel.demo;

import io.vertx.core.buffer.Buffer;

/** Finds the first binary block {@code "data":[N,<N bytes>} in one DBX message. */
final class DataBlocks {

  /** Where a block's bytes start in the message, and how many there are. */
  record Block(int start, int length) { }

  private static final byte[] KEY = {'"', 'd', 'a', 't', 'a', '"'};

  private DataBlocks() {
  }

  static Block find(Buffer msg) {
    int n = msg.length();
    outer:
    for (int i = 0; i + KEY.length <= n; i++) {
      for (int k = 0; k < KEY.length; k++) {
        if (msg.getByte(i + k) != KEY[k]) {
          continue outer;
        }
      }
      int j = skipSpace(msg, i + KEY.length);
      if (j >= n || msg.getByte(j) != ':') {
        continue;
      }
      j = skipSpace(msg, j + 1);
      if (j >= n || msg.getByte(j) != '[') {
        continue;
      }
      j = skipSpace(msg, j + 1);
      long count = 0;
      int digits = j;
      while (j < n && msg.getByte(j) >= '0' && msg.getByte(j) <= '9' && count <= Integer.MAX_VALUE) {
        count = count * 10 + (msg.getByte(j) - '0');
        j++;
      }
      if (j == digits || j >= n || msg.getByte(j) != ',' || j + 1 + count > n) {
        continue;
      }
      return new Block(j + 1, (int) count);
    }
    return null;
  }

  private static int skipSpace(Buffer b, int i) {
    while (i < b.length() && (b.getByte(i) == ' ' || b.getByte(i) == '\t' || b.getByte(i) == '\r' || b.getByte(i) == '\n')) {
      i++;
    }
    return i;
  }
}
