// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.framing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DbxFramerTest {

  private static Buffer block(byte[] payload) {
    return Buffer.buffer("{\"data\":[" + payload.length + ",").appendBytes(payload).appendString("]}");
  }

  /** A client stream: filter query, messages with whitespace between, blocks full of braces and quotes. */
  private static List<Buffer> clientMessages() {
    byte[] nasty = "}}}\"{{[\\\"]]{\"data\":[3,".getBytes(StandardCharsets.UTF_8);
    byte[] random = new byte[300];
    new Random(42).nextBytes(random);
    return List.of(
        Buffer.buffer(new byte[] {5, 5, 5, 5, 5}),
        Buffer.buffer("{\"method\":\"connect\",\"params\":[{\"DriverName\":\"Datasnap\",\"x\":\"a}b{c\\\"}\"}]}"),
        Buffer.buffer("\r\n {\"method\":\"execute\",\"params\":[1,").appendBuffer(block(nasty)).appendString("]}"),
        Buffer.buffer("{\"method\":\"execute\",\"params\":[2,").appendBuffer(block(random)).appendString("]}"),
        Buffer.buffer("{\"data\" : [ 4,1]}"),
        Buffer.buffer("{\"data\":[1,2,3],\"s\":\"data\"}"),
        Buffer.buffer("{\"result\":[{\"data\":[0,]}]}"));
  }

  private static List<Integer> ends(List<Buffer> messages) {
    List<Integer> ends = new ArrayList<>();
    int at = 0;
    for (Buffer m : messages) {
      at += m.length();
      ends.add(at);
    }
    return ends;
  }

  private static List<Integer> feedIn(DbxFramer framer, Buffer stream, int... cuts) {
    List<Integer> found = new ArrayList<>();
    int from = 0;
    for (int cut : cuts) {
      int base = from;
      framer.feed(stream.slice(from, cut), end -> found.add(base + end));
      from = cut;
    }
    int base = from;
    framer.feed(stream.slice(from, stream.length()), end -> found.add(base + end));
    return found;
  }

  @Test
  void findsEveryMessageEndWhenTheStreamIsSplitAtAnyByte() {
    List<Buffer> messages = clientMessages();
    Buffer stream = Buffer.buffer();
    messages.forEach(stream::appendBuffer);
    List<Integer> expected = ends(messages);
    for (int cut = 0; cut <= stream.length(); cut++) {
      assertThat(feedIn(new DbxFramer(), stream, cut)).as("split at %d", cut).isEqualTo(expected);
    }
  }

  @Test
  void findsEveryMessageEndWhenFedOneByteAtATime() {
    List<Buffer> messages = clientMessages();
    Buffer stream = Buffer.buffer();
    messages.forEach(stream::appendBuffer);
    int[] cuts = new int[stream.length() - 1];
    for (int i = 0; i < cuts.length; i++) {
      cuts[i] = i + 1;
    }
    assertThat(feedIn(new DbxFramer(), stream, cuts)).isEqualTo(ends(messages));
  }

  @Test
  void serverPreambleWithFiltersIsOneAnswer() {
    Buffer json = Buffer.buffer("[{\"x\":1}]");
    Buffer filters = Buffer.buffer().appendByte((byte) 0x0D).appendInt(json.length()).appendBuffer(json);
    Buffer answer = Buffer.buffer("{\"result\":[1,\"DataSnap\",2]}");
    Buffer stream = filters.copy().appendBuffer(answer);
    for (int cut = 0; cut <= stream.length(); cut++) {
      assertThat(feedIn(new DbxFramer(), stream, cut))
          .isEqualTo(List.of(filters.length(), stream.length()));
    }
  }

  @Test
  void noFilterAnswerIsFiveBytes() {
    Buffer stream = Buffer.buffer(new byte[] {6, 0, 0, 0, 0}).appendString("{\"result\":[]}");
    assertThat(feedIn(new DbxFramer(), stream, 2)).containsExactly(5, stream.length());
  }

  @Test
  void streamWithoutPreambleStartsWithMessages() {
    Buffer stream = Buffer.buffer("{\"a\":1}{\"b\":[2]}");
    assertThat(feedIn(new DbxFramer(), stream)).containsExactly(7, stream.length());
    DbxFramer noPreamble = new DbxFramer();
    noPreamble.reset(false);
    assertThat(feedIn(noPreamble, stream)).containsExactly(7, stream.length());
  }

  @Test
  void reportsWhetherItStandsBetweenMessages() {
    DbxFramer framer = new DbxFramer();
    assertThat(framer.atBoundary()).isTrue();
    framer.feed(Buffer.buffer("{\"a\":"), end -> { });
    assertThat(framer.atBoundary()).isFalse();
    framer.feed(Buffer.buffer("1}"), end -> { });
    assertThat(framer.atBoundary()).isTrue();
  }

  @Test
  void aByteThatCannotStartAMessageIsAnError() {
    DbxFramer framer = new DbxFramer();
    assertThatThrownBy(() -> framer.feed(Buffer.buffer("{\"a\":1}x"), end -> { }))
        .isInstanceOf(FramingException.class).hasMessageContaining("out of step");
  }

  /** The values the spec and the kit name: JSON with a "data" key is never taken for a block. */
  private static final List<String> DATA_VALUES = List.of("{\"data\":[1,\"ab\"]}",
      "{\"x\":{\"data\":[12,\"twelve bytes\"]}}", "{\"data\":\"[5,\"}", "{\"a\":1,\"data\":[2,1]}",
      "{\"data\":[]}", "{\"data\":[0]}", "[{\"data\":[2,\"x\"]}]", "{\"data\":[100,\"ab\"]}",
      "{\"data\": [3, 1]}");

  @Test
  void jsonValuesWithADataKeyEndWhereTheirJsonEnds() {
    List<Buffer> messages = new ArrayList<>();
    messages.add(Buffer.buffer(new byte[] {6, 0, 0, 0, 0}));
    for (String v : DATA_VALUES) {
      messages.add(Buffer.buffer("{\"result\":[" + v + "]}"));
    }
    Buffer stream = Buffer.buffer();
    messages.forEach(stream::appendBuffer);
    List<Integer> expected = ends(messages);
    for (int cut = 0; cut <= stream.length(); cut++) {
      assertThat(feedIn(new DbxFramer(), stream, cut)).as("split at %d", cut).isEqualTo(expected);
    }
  }

  @Test
  void aValueWithTooLargeACountEndsWithItsJsonEvenWhenFedByteByByte() {
    Buffer answer = Buffer.buffer("{\"result\":[{\"data\":[100,\"ab\"]}]}");
    int[] cuts = new int[answer.length() - 1];
    for (int i = 0; i < cuts.length; i++) {
      cuts[i] = i + 1;
    }
    DbxFramer framer = new DbxFramer();
    framer.reset(false);
    assertThat(feedIn(framer, answer, cuts)).containsExactly(answer.length());
  }

  @Test
  void aBlockWhoseBytesCloseTheJsonIsStillABlockWhenItsCloseIsAtHand() {
    // Four raw bytes "]}]}" would end the JSON reading; the block's own "]}" follows them.
    Buffer answer = Buffer.buffer("{\"result\":[").appendBuffer(block("]}]}".getBytes(StandardCharsets.UTF_8)))
        .appendString("]}");
    DbxFramer framer = new DbxFramer();
    framer.reset(false);
    assertThat(feedIn(framer, answer)).containsExactly(answer.length());
  }

  @Test
  void binaryBlocksOfEveryByteValueAreSkippedAtAnySplit() {
    byte[] bytes = new byte[600];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = (byte) (i % 251);
    }
    Buffer answer = Buffer.buffer("{\"result\":[").appendBuffer(block(bytes)).appendString("]}");
    Buffer stream = answer.copy().appendString("{\"result\":[]}");
    for (int cut = 0; cut <= stream.length(); cut += 7) {
      DbxFramer framer = new DbxFramer();
      framer.reset(false);
      assertThat(feedIn(framer, stream, cut)).as("split at %d", cut).containsExactly(answer.length(), stream.length());
    }
  }
}
