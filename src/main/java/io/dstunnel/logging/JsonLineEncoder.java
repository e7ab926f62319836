// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.Set;
import org.slf4j.event.KeyValuePair;

/**
 * One flat JSON object per line, for log collectors: {@code time} (ISO-8601, UTC), {@code level},
 * {@code logger}, {@code message}, then each of the event's key-values as a field of its own
 * (numbers and booleans as such, anything else as a string), and {@code error} with the stack trace
 * when there is one. A key-value named like one of those fields is written as {@code kv.NAME}.
 *
 * <pre>{"time":"2025-01-07T09:14:03.120Z","level":"INFO","logger":"dstunnel.events","message":"failover","session":"7f3a…","from":"a","to":"b","replayedBytes":1024}</pre>
 */
public final class JsonLineEncoder extends LinesOnly {

  private static final Set<String> RESERVED = Set.of("time", "level", "logger", "message", "error");

  @Override
  public byte[] encode(ILoggingEvent event) {
    StringBuilder b = new StringBuilder(256);
    b.append("{\"time\":");
    string(b, DateTimeFormatter.ISO_INSTANT.format(Instant.ofEpochMilli(event.getTimeStamp())));
    b.append(",\"level\":");
    string(b, event.getLevel().toString());
    b.append(",\"logger\":");
    string(b, event.getLoggerName());
    b.append(",\"message\":");
    string(b, event.getFormattedMessage());
    for (KeyValuePair kv : LogFields.of(event)) {
      b.append(',');
      string(b, RESERVED.contains(kv.key) ? "kv." + kv.key : kv.key);
      b.append(':');
      value(b, kv.value);
    }
    String trace = LogFields.stackTrace(event);
    if (trace != null) {
      b.append(",\"error\":");
      string(b, trace);
    }
    b.append("}\n");
    return b.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static void value(StringBuilder b, Object v) {
    if (v == null) {
      b.append("null");
    } else if (v instanceof Boolean || v instanceof Integer || v instanceof Long || v instanceof Short
        || v instanceof Byte) {
      b.append(v);
    } else if (v instanceof Number n && Double.isFinite(n.doubleValue())) {
      b.append(n);
    } else {
      string(b, String.valueOf(v));
    }
  }

  /** {@code s} as a JSON string, escaped (RFC 8259). */
  static void string(StringBuilder b, String s) {
    b.append('"');
    if (s != null) {
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        switch (c) {
          case '"' -> b.append("\\\"");
          case '\\' -> b.append("\\\\");
          case '\n' -> b.append("\\n");
          case '\r' -> b.append("\\r");
          case '\t' -> b.append("\\t");
          default -> {
            if (c < 0x20 || c == 0x2028 || c == 0x2029) {
              b.append(String.format("\\u%04x", (int) c));
            } else {
              b.append(c);
            }
          }
        }
      }
    }
    b.append('"');
  }
}
