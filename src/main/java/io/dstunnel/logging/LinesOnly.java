// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.encoder.EncoderBase;

/** An encoder that writes each event as its own line(s), with no header or footer around them. */
public abstract class LinesOnly extends EncoderBase<ILoggingEvent> {

  private static final byte[] NONE = new byte[0];

  @Override
  public final byte[] headerBytes() {
    return NONE;
  }

  @Override
  public final byte[] footerBytes() {
    return NONE;
  }
}
