// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session.answer;

import static org.assertj.core.api.Assertions.assertThat;

import io.dstunnel.framing.Framing;
import io.dstunnel.session.answer.AnswerStream.Piece;
import io.dstunnel.session.message.Progress;
import io.dstunnel.session.message.TunnelReply;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.junit5.VertxExtension;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * How far a client has got, to the byte ({@link Progress}): what a session's reads hand out, and
 * what an adopter's replay drops so that the client's next read goes on from the next byte.
 */
@ExtendWith(VertxExtension.class)
class ProgressTest {

  @Test
  void anAnswerReadInSlicesIsCountedWholeOnlyOnceItsLastByteIsHandedOut(Vertx vertx) {
    Readers readers = new Readers(vertx, n -> { });
    readers.add(Buffer.buffer("0123456789"), Piece.END);
    readers.add(Buffer.buffer("abcdefghij"), Piece.END);
    TunnelReply first = readers.take(4);
    assertThat(readers.progressAt(first.offset())).isEqualTo(Progress.NONE);
    assertThat(readers.progressAt(first.offset() + 4)).isEqualTo(new Progress(0, 4, 4));
    TunnelReply second = readers.take(10);
    assertThat(readers.progressAt(second.offset() + 10)).isEqualTo(new Progress(1, 4, 14));
    readers.take(6);
    assertThat(readers.progressAt(20)).isEqualTo(new Progress(2, 0, 20));
  }

  @Test
  void aPushIsHandedOutButIsNoAnswer(Vertx vertx) {
    Readers readers = new Readers(vertx, n -> { });
    readers.add(Buffer.buffer("push"), Piece.PUSH);
    readers.add(Buffer.buffer("answer"), Piece.END);
    readers.take(100);
    assertThat(readers.progressAt(10)).isEqualTo(new Progress(1, 0, 10));
    assertThat(readers.progressAt(6)).isEqualTo(new Progress(0, 2, 6));
  }

  @Test
  void bytesGivenBackAreNotCountedAsHandedOut(Vertx vertx) {
    Readers readers = new Readers(vertx, n -> { });
    readers.add(Buffer.buffer("0123456789"), Piece.END);
    TunnelReply r = readers.take(10);
    assertThat(readers.unread(r.data(), r.offset())).isTrue();
    assertThat(readers.progressAt(readers.given())).isEqualTo(Progress.NONE);
    readers.take(3);
    assertThat(readers.progressAt(readers.given())).isEqualTo(new Progress(0, 3, 3));
  }

  @Test
  void anAdoptedSessionGoesOnFromWhereTheClientWas(Vertx vertx) {
    Readers readers = new Readers(vertx, n -> { });
    readers.startAt(new Progress(3, 4, 104));
    readers.add(Buffer.buffer("rest"), Piece.END);
    TunnelReply r = readers.take(100);
    assertThat(r.offset()).isEqualTo(104);
    assertThat(readers.progressAt(108)).isEqualTo(new Progress(4, 0, 108));
  }

  /** The adopter's replay answers again what the client has: whole answers dropped, then the head of the next. */
  @Test
  void aReplayDropsTheAnswersAndTheBytesTheClientHas() {
    List<String> out = new ArrayList<>();
    AnswerStream stream = new AnswerStream(Framing.DBX, 1 << 20, (b, piece) -> out.add(b + "|" + piece), null);
    stream.assumeGiven(new Progress(1, 5, 25));
    stream.restart(1);
    stream.feed(Buffer.buffer("{\"result\":[1]}{\"result\":[\"second\"]}{\"result\":[3]}"), false);
    assertThat(out).containsExactly("ult\":[\"second\"]}|END", "{\"result\":[3]}|END");
  }

  /** With "raw" framing, bytes are all there is: the client's are dropped from the replay. */
  @Test
  void aRawReplayDropsTheBytesTheClientHas() {
    List<String> out = new ArrayList<>();
    AnswerStream stream = new AnswerStream(Framing.RAW, 1 << 20, (b, piece) -> out.add(b.toString()), null);
    stream.assumeGiven(new Progress(0, 0, 6));
    stream.restart(0);
    stream.feed(Buffer.buffer("abcdefghij"), false);
    assertThat(out).containsExactly("ghij");
  }
}
