// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import io.dstunnel.config.LogConfig.Format;
import java.util.Locale;

/**
 * The console's encoder in logback.xml: {@link TextLineEncoder} or {@link JsonLineEncoder}, as
 * {@link LogFormat} chose (the proxy's config is read after Logback has started, so the choice is
 * made per line, not per appender). {@code format} in logback.xml is the one used until then.
 */
public final class LineEncoder extends LinesOnly {

  private final TextLineEncoder text = new TextLineEncoder();
  private final JsonLineEncoder json = new JsonLineEncoder();
  private Format format = Format.TEXT;

  /** {@code TEXT} or {@code JSON} (any case); anything else keeps TEXT. */
  public void setFormat(String value) {
    try {
      format = Format.valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      addWarn("unknown log format " + value + ": text");
    }
  }

  @Override
  public byte[] encode(ILoggingEvent event) {
    return (LogFormat.current(format) == Format.JSON ? json : text).encode(event);
  }
}
