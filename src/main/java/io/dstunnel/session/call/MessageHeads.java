// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session.call;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.regex.Pattern;

/** What {@link Calls} reads in a DBX message's first bytes, without parsing the whole message. */
final class MessageHeads {

  static final Pattern PREPARE = Pattern.compile(
      "^\\s*\\{\\s*\"method\"\\s*:\\s*\"prepare\"\\s*,.*?\"DSServerMethod\"\\s*,\\s*\"([^\"]+)\"", Pattern.DOTALL);
  static final Pattern EXECUTE = Pattern.compile(
      "^\\s*\\{\\s*\"method\"\\s*:\\s*\"execute\"\\s*,\\s*\"params\"\\s*:\\s*\\[\\s*(\\d{1,9})\\s*,");
  static final Pattern RESULT_HANDLE = Pattern.compile("^\\s*\\{\\s*\"result\"\\s*:\\s*\\[\\s*(\\d{1,9})\\s*\\]");

  private MessageHeads() {
  }

  static boolean startsWith(Buffer b, String prefix) {
    int i = 0;
    while (i < b.length() && Character.isWhitespace(b.getByte(i))) {
      i++;
    }
    if (b.length() - i < prefix.length()) {
      return false;
    }
    for (int k = 0; k < prefix.length(); k++) {
      if (b.getByte(i + k) != prefix.charAt(k)) {
        return false;
      }
    }
    return true;
  }

  /** The argument array of an execute, if the whole message is at hand. */
  static JsonArray args(Buffer head, long length) {
    if (head.length() < length) {
      return null;
    }
    try {
      Object a = new JsonObject(head).getJsonArray("params").getValue(1);
      return a instanceof JsonArray array ? array : null;
    } catch (RuntimeException e) {
      return null;
    }
  }
}
