// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.config;

import java.util.Locale;
import java.util.Set;

/**
 * How the proxy logs (section {@code log}): readable lines or one JSON object per line. The JVM
 * property {@code -Ddstunnel.log.format} wins over it, and {@code DSTUNNEL_LOG_FORMAT} over the
 * file (see {@link io.dstunnel.logging.LogFormat}).
 *
 * @param format {@code text} (the default) or {@code json}
 */
public record LogConfig(Format format) {

  /** The line format on stdout. */
  public enum Format {
    /** One readable line per event: time, level, logger, message, then {@code key=value} pairs. */
    TEXT,
    /** One flat JSON object per line: time, level, logger, message and each key-value as a field. */
    JSON;

    /** As written in the config: lower case. */
    public String key() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public static final LogConfig DEFAULT = new LogConfig(Format.TEXT);

  static LogConfig fromJson(Object value) {
    if (value == null) {
      return DEFAULT;
    }
    JsonSection s = JsonSection.of("log", value, Set.of("format"));
    return new LogConfig(s.oneOf("format", Format.values(), Format::key, Format.TEXT));
  }
}
