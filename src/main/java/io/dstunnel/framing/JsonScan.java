// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.framing;

/**
 * Reads bytes as JSON just far enough to know where a message ends: nesting depth, strings and
 * their escapes. It also notices bytes that no JSON text can hold at their place (control bytes,
 * bytes above ASCII outside strings, a stray close), after which it is no longer {@link #valid}:
 * the {@link DbxFramer} then knows that a binary block, not JSON, is what it is reading.
 */
final class JsonScan {

  private int depth;
  private boolean inString;
  private boolean escape;
  private boolean valid = true;

  void reset() {
    depth = 0;
    inString = false;
    escape = false;
    valid = true;
  }

  int depth() {
    return depth;
  }

  boolean inString() {
    return inString;
  }

  boolean valid() {
    return valid;
  }

  /** A binary block that opened at {@code depthBefore} has closed: the JSON reading resumes after it. */
  void closeBlock(int depthBefore) {
    depth = depthBefore;
    inString = false;
    escape = false;
    valid = true;
  }

  void accept(byte c) {
    if (!valid) {
      return;
    }
    if (inString) {
      if (escape) {
        escape = false;
      } else if (c == '\\') {
        escape = true;
      } else if (c == '"') {
        inString = false;
      } else if (c >= 0 && c < 0x20) {
        valid = false;
      }
      return;
    }
    switch (c) {
      case '"' -> inString = true;
      case '{', '[' -> depth++;
      case '}', ']' -> valid = --depth >= 0;
      case ' ', '\t', '\r', '\n', ',', ':', '-', '+', '.' -> { }
      default -> valid = c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z';
    }
  }
}
