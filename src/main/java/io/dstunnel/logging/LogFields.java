// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import java.util.List;
import org.slf4j.event.KeyValuePair;

/** What both line formats read from an event: its key-values and its stack trace. */
final class LogFields {

  private LogFields() {
  }

  /** The event's key-values (the event log's fields), never null. */
  static List<KeyValuePair> of(ILoggingEvent event) {
    List<KeyValuePair> kvs = event.getKeyValuePairs();
    return kvs == null ? List.of() : kvs;
  }

  /** The stack trace of the event's throwable, or null. */
  static String stackTrace(ILoggingEvent event) {
    IThrowableProxy t = event.getThrowableProxy();
    return t == null ? null : ThrowableProxyUtil.asString(t);
  }

  /** The short name of a logger: its last dotted part ({@code dstunnel.events}: {@code events}). */
  static String shortName(String logger) {
    int dot = logger.lastIndexOf('.');
    return dot < 0 ? logger : logger.substring(dot + 1);
  }
}
