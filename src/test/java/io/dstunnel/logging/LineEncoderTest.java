// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import io.dstunnel.config.LogConfig.Format;
import io.dstunnel.config.ProxyConfig;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slf4j.event.KeyValuePair;

/** The two line formats, one event at a time; {@code LogOutputIT} checks a real process's output. */
class LineEncoderTest {

  private static LoggingEvent failover() {
    LoggingEvent e = new LoggingEvent("x", new LoggerContext().getLogger("dstunnel.events"), Level.INFO, "failover",
        null, null);
    e.addKeyValuePair(new KeyValuePair("session", "7f3a"));
    e.addKeyValuePair(new KeyValuePair("from", "a"));
    e.addKeyValuePair(new KeyValuePair("reason", "connection \"reset\" by peer"));
    e.addKeyValuePair(new KeyValuePair("replayedBytes", 1024L));
    e.addKeyValuePair(new KeyValuePair("message", "a key named like a field"));
    return e;
  }

  @Test
  void jsonIsOneFlatObjectWithTheKeyValuesAsFields() {
    String line = new String(new JsonLineEncoder().encode(failover()), StandardCharsets.UTF_8);
    assertThat(line).endsWith("}\n").doesNotContain("kvpList").hasLineCount(1);
    JsonObject o = new JsonObject(line);
    assertThat(o.getString("level")).isEqualTo("INFO");
    assertThat(o.getString("logger")).isEqualTo("dstunnel.events");
    assertThat(o.getString("message")).isEqualTo("failover");
    assertThat(o.getString("time")).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z");
    assertThat(o.getString("session")).isEqualTo("7f3a");
    assertThat(o.getString("reason")).isEqualTo("connection \"reset\" by peer");
    assertThat(o.getValue("replayedBytes")).isEqualTo(1024);
    assertThat(o.getString("kv.message")).isEqualTo("a key named like a field");
  }

  @Test
  void textIsOneReadableLineWithQuotedValuesWhereNeeded() {
    String line = new String(new TextLineEncoder().encode(failover()), StandardCharsets.UTF_8);
    assertThat(line).matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  events   failover session=7f3a from=a "
        + "reason=\"connection \\\\\"reset\\\\\" by peer\" replayedBytes=1024 message=\"a key named like a field\"\n");
  }

  /**
   * A client's text quoted in a message or a value (a method name from its prepare, say) cannot
   * start a line of its own: line breaks and control characters are written escaped. Before, a
   * message's line break went out as it was, and a forged line followed.
   */
  @Test
  void textCannotBeSplitIntoForgedLines() {
    LoggingEvent e = new LoggingEvent("x", new LoggerContext().getLogger("io.dstunnel.rest.RestProxy"), Level.WARN,
        "call {} failed", null, new Object[] {"X.Y\n2026-01-01 00:00:00.000 INFO  forged\r"});
    e.addKeyValuePair(new KeyValuePair("method", "A.B\nC\u0007"));
    String line = new String(new TextLineEncoder().encode(e), StandardCharsets.UTF_8);
    assertThat(line).hasLineCount(1).endsWith("\n")
        .contains("call X.Y\\n2026-01-01 00:00:00.000 INFO  forged\\r failed")
        .contains("method=\"A.B\\nC\\u0007\"");

    LoggingEvent failed = new LoggingEvent("x", new LoggerContext().getLogger("io.dstunnel.rest.RestProxy"),
        Level.WARN, "call failed", new IllegalStateException("boom\n2026-01-01 00:00:00.000 INFO  forged\u2028x"), null);
    String withTrace = new String(new TextLineEncoder().encode(failed), StandardCharsets.UTF_8);
    assertThat(withTrace.lines().skip(1)).as("the stack trace, indented under its line").isNotEmpty()
        .allMatch(l -> Character.isWhitespace(l.charAt(0)));
    assertThat(withTrace).doesNotContain("\u2028");
  }

  @Test
  void theFormatComesFromTheConfigOrTheEnvironment() {
    String config = "{\"backends\":[{\"port\":211}]}";
    assertThat(ProxyConfig.parse(config).log().format()).isEqualTo(Format.TEXT);
    assertThat(ProxyConfig.parse("{\"backends\":[{\"port\":211}],\"log\":{\"format\":\"json\"}}").log().format())
        .isEqualTo(Format.JSON);
    assertThat(ProxyConfig.parse(config, Map.of("DSTUNNEL_LOG_FORMAT", "JSON")).log().format()).isEqualTo(Format.JSON);
  }
}
