// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.logging;

import io.dstunnel.config.LogConfig.Format;
import java.util.Locale;

/**
 * Chooses the line format of the log on stdout. The JVM property {@code -Ddstunnel.log.format}
 * wins (logback.xml hands it to the {@link LineEncoder}); otherwise the proxy's {@code log.format},
 * with {@code DSTUNNEL_LOG_FORMAT} over the file's, applies from {@link #use} on; the default is
 * text. An operator's own Logback configuration may use {@link TextLineEncoder} or
 * {@link JsonLineEncoder} directly.
 */
public final class LogFormat {

  /** The JVM property logback.xml reads: {@code TEXT} or {@code JSON}. */
  public static final String PROPERTY = "dstunnel.log.format";

  private static volatile Format chosen;

  private LogFormat() {
  }

  /**
   * The format the JVM property asks for, or null when it is not set; the property is rewritten in
   * the spelling logback.xml expects. An unknown value is an {@link IllegalArgumentException} that
   * names the property.
   */
  public static Format fromProperty() {
    String v = System.getProperty(PROPERTY);
    if (v == null || v.isBlank()) {
      return null;
    }
    Format f;
    try {
      f = Format.valueOf(v.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("-D" + PROPERTY + " must be text or json, got " + v);
    }
    System.setProperty(PROPERTY, f.name());
    return f;
  }

  /** Logs in {@code format} from now on, unless the JVM property chose already. */
  public static void use(Format format) {
    if (fromProperty() == null) {
      chosen = format;
    }
  }

  /** The format a line is written in: the one {@link #use} chose, else {@code configured}. */
  static Format current(Format configured) {
    Format f = chosen;
    return f == null ? configured : f;
  }
}
