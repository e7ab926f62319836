// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session.message;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every session message survives its wire form byte for byte, after other bytes in the buffer. */
class WireCodecTest {

  private static <T> T roundTrip(WireCodec<T> codec, T message) {
    Buffer wire = Buffer.buffer("prefix");
    codec.encodeToWire(wire, message);
    return codec.decodeFromWire(6, wire);
  }

  @Test
  void commandsOfEveryKindRoundTrip() {
    Buffer binary = Buffer.buffer(new byte[] {0, 5, (byte) 0xFF, '{', '"'});
    List<TunnelCommand> commands = List.of(TunnelCommand.open("ünïcode", binary), TunnelCommand.open(null, Buffer.buffer()),
        TunnelCommand.write("sid", "u", binary), TunnelCommand.read("sid", null, 32768, 7, 20_000),
        TunnelCommand.close("sid", "u"), TunnelCommand.cancelRead("sid", "u", 9),
        TunnelCommand.unread("sid", "u", binary, 1L << 40),
        TunnelCommand.read("sid", null, 100, 8, 50).by(TunnelCommand.Acting.SESSION_ID),
        TunnelCommand.write("sid", null, binary, 3).by(TunnelCommand.Acting.NO_AUTH), TunnelCommand.operatorClose("sid"));
    WireCodec<TunnelCommand> codec = new WireCodec.TunnelCommandCodec();
    for (TunnelCommand c : commands) {
      assertThat(roundTrip(codec, c)).isEqualTo(c);
    }
  }

  /**
   * A command from a node of the version before, which did not say who acts: its user's if it
   * names one, else nobody's (refused by every session).
   */
  @Test
  void aCommandWithoutWhoActsIsItsUsersOrNobodys() {
    WireCodec<TunnelCommand> codec = new WireCodec.TunnelCommandCodec();
    for (TunnelCommand c : List.of(TunnelCommand.close("sid", "u"), TunnelCommand.read("sid", null, 100, 8, 50)
        .by(TunnelCommand.Acting.SESSION_ID))) {
      Buffer wire = Buffer.buffer();
      codec.encodeToWire(wire, c);
      Buffer before = Buffer.buffer().appendInt(wire.length() - 5).appendBuffer(wire.getBuffer(4, wire.length() - 1))
          .appendString("next");
      TunnelCommand decoded = codec.decodeFromWire(0, before);
      assertThat(decoded.acting()).isEqualTo(c.user() == null ? null : TunnelCommand.Acting.USER);
      assertThat(decoded.sessionId()).isEqualTo("sid");
      assertThat(decoded.sliceMs()).isEqualTo(c.sliceMs());
    }
  }

  @Test
  void repliesOfEveryKindRoundTrip() {
    List<TunnelReply> replies = List.of(TunnelReply.accepted("sid", 5), TunnelReply.data(Buffer.buffer("abc"), 42),
        TunnelReply.noDataYet(), TunnelReply.failed(SessionFailure.LOST_BACKEND, "Session failed over 3 times"));
    WireCodec<TunnelReply> codec = new WireCodec.TunnelReplyCodec();
    for (TunnelReply r : replies) {
      assertThat(roundTrip(codec, r)).isEqualTo(r);
    }
  }
}
