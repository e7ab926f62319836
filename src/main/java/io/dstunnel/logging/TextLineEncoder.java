// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import org.slf4j.event.KeyValuePair;

/**
 * One readable line per event, for a terminal or journald: local date and time, level, the
 * logger's short name, the message, then the event's key-values as {@code key=value} (a value with a
 * space, a quote or an equals sign in double quotes, as logfmt writes it), and the stack trace on
 * the lines below when there is one.
 *
 * <pre>2025-01-07 10:14:03.120 INFO  events   failover session=7f3a… from=a to=b kind=closed reason="connection closed"</pre>
 */
public final class TextLineEncoder extends LinesOnly {

  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS")
      .withZone(ZoneId.systemDefault());

  @Override
  public byte[] encode(ILoggingEvent event) {
    StringBuilder b = new StringBuilder(160);
    b.append(TIME.format(Instant.ofEpochMilli(event.getTimeStamp()))).append(' ');
    pad(b, event.getLevel().toString(), 5);
    b.append(' ');
    pad(b, LogFields.shortName(event.getLoggerName()), 8);
    b.append(' ');
    line(b, event.getFormattedMessage());
    for (KeyValuePair kv : LogFields.of(event)) {
      b.append(' ').append(kv.key).append('=');
      value(b, String.valueOf(kv.value));
    }
    b.append('\n');
    String trace = LogFields.stackTrace(event);
    if (trace != null) {
      // Indented under its line: a line break in an exception's message (a client's text) cannot
      // start a line that reads as a log line of its own.
      for (String line : trace.split("\r\n|\r|\n|\u0085|\u2028|\u2029", -1)) {
        if (!line.isEmpty()) {
          b.append(Character.isWhitespace(line.charAt(0)) ? "" : "    ");
          line(b, line);
          b.append('\n');
        }
      }
    }
    return b.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static void pad(StringBuilder b, String s, int width) {
    b.append(s);
    for (int i = s.length(); i < width; i++) {
      b.append(' ');
    }
  }

  /** A logfmt value: bare when it can be, else quoted with {@code \"} and {@code \\} escaped. */
  private static void value(StringBuilder b, String v) {
    boolean bare = !v.isEmpty();
    for (int i = 0; i < v.length() && bare; i++) {
      char c = v.charAt(i);
      bare = c > ' ' && c != 0x7f && c != '"' && c != '=' && c != '\\';
    }
    if (bare) {
      b.append(v);
      return;
    }
    b.append('"');
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        default -> control(b, c);
      }
    }
    b.append('"');
  }

  /**
   * A message on one line: a line break or other control character in it (a client's text quoted
   * in a message) is written escaped, so no text can start a line of its own in the log.
   */
  private static void line(StringBuilder b, String message) {
    for (int i = 0; i < message.length(); i++) {
      control(b, message.charAt(i));
    }
  }

  private static void control(StringBuilder b, char c) {
    if (c == '\n') {
      b.append("\\n");
    } else if (c == '\r') {
      b.append("\\r");
    } else if (c < ' ' && c != '\t' || c >= 0x7f && c <= 0x9f || c == '\u2028' || c == '\u2029') {
      b.append(String.format("\\u%04x", (int) c));
    } else {
      b.append(c);
    }
  }
}
