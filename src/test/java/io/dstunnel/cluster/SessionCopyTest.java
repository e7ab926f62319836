// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.dstunnel.session.copy.Handout;
import io.dstunnel.session.message.Progress;
import io.vertx.core.buffer.Buffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What a copy tells its adopter the client already has (cluster.md, item 3): what the owner told
 * it before the bytes went out, settled by the request that noticed the owner's death.
 */
class SessionCopyTest {

  private static final Buffer FILTER = Buffer.buffer(new byte[] {5, 5, 5, 5, 5});
  private static final Buffer CONNECT = Buffer.buffer("{\"method\":\"connect\",\"params\":[{}]}");
  private static final Buffer PREPARE = Buffer.buffer("{\"method\":\"prepare\",\"params\":[-1]}");
  private static final Buffer EXECUTE = Buffer.buffer("{\"method\":\"execute\",\"params\":[1,[1]]}");

  /** Three answers whole, then 16 KiB of a fourth, relayed by node "n1"'s read 42. */
  private static final Handout SLICE = new Handout(new Progress(3, 0, 300), new Progress(3, 16384, 16684), "n1", 42,
      true);

  /** A copy of a session whose client wrote the filter query, connect, prepare and execute (write 7). */
  private static SessionCopy copyWithExecuteAsWrite7() {
    SessionCopy copy = new SessionCopy(CopyOp.open("s", 1, "owner", "admin", List.of(FILTER), List.of(), null,
        List.of(), List.of()));
    assertThat(copy.append(end(FILTER, CONNECT), CONNECT, 5)).isTrue();
    assertThat(copy.append(end(FILTER, CONNECT, PREPARE), PREPARE, 6)).isTrue();
    assertThat(copy.append(end(FILTER, CONNECT, PREPARE, EXECUTE), EXECUTE, 7)).isTrue();
    copy.handedOut(SLICE);
    return copy;
  }

  /** Where the last of {@code written} ends in the stream. */
  private static long end(Buffer... written) {
    long end = 0;
    for (Buffer b : written) {
      end += b.length();
    }
    return end;
  }

  /**
   * The next slice of an answer read through another node (or the same one, by another request)
   * goes on from the byte after the last one handed out. Before, a read noticing the death was
   * taken to mean "every answer but the last write's": the answer began again from its first byte.
   */
  @Test
  void aReadOtherThanTheLastOneMeansTheClientHasTheLastSlice() {
    assertThat(copyWithExecuteAsWrite7().adoption(CopyOp.adopt("s", 1, true, "n2", 7), "owner").given())
        .isEqualTo(new Progress(3, 16384, 16684));
    assertThat(copyWithExecuteAsWrite7().adoption(CopyOp.adopt("s", 1, true, "n1", 43), "owner").given())
        .isEqualTo(new Progress(3, 16384, 16684));
  }

  /** The read the last bytes went to, asking again (its relaying node never got them), is given them again. */
  @Test
  void theSameReadAskingAgainDidNotGetTheLastSlice() {
    assertThat(copyWithExecuteAsWrite7().adoption(CopyOp.adopt("s", 1, true, "n1", 42), "owner").given())
        .isEqualTo(new Progress(3, 0, 300));
  }

  /** A DBX client writes only once its last answer is whole: a write means it had everything handed out. */
  @Test
  void aWriteNoticingTheDeathMeansTheClientHasEverythingHandedOut() {
    assertThat(copyWithExecuteAsWrite7().adoption(CopyOp.adopt("s", 1, false, "n1", 42), "owner").given())
        .isEqualTo(new Progress(3, 16384, 16684));
  }

  @Test
  void aHandOverSaysHowFarTheClientHasGot() {
    Progress p = new Progress(2, 10, 210);
    CopyOp handOver = CopyOp.handOver("s", 1, new Handout(p, p, null, 0, true));
    assertThat(copyWithExecuteAsWrite7().adoption(handOver, "owner").given()).isEqualTo(p);
  }

  /** A copy made again (a new holder) starts from the owner's last hand-out, not from nothing. */
  @Test
  void aWholeCopyCarriesTheLastHandOut() {
    SessionCopy copy = new SessionCopy(CopyOp.open("s", 1, "owner", "admin", List.of(FILTER), List.of(), SLICE, List.of(), List.of()));
    assertThat(copy.adoption(CopyOp.adopt("s", 1, false, null, 0), "owner").given()).isEqualTo(SLICE.after());
  }

  /**
   * The soak's duplicates after a roll: the copy was made again, whole, while the last write's own
   * copy was on its way; that write, arriving after, must not be taken twice (its adopter answered
   * it twice: one more answer than the client had asked for).
   */
  @Test
  void aWriteTheCopyWasMadeAgainWithIsNotTakenTwice() {
    SessionCopy copy = new SessionCopy(CopyOp.open("s", 1, "owner", "admin", List.of(FILTER, CONNECT, PREPARE),
        List.of(5L, 6L), null, List.of(), List.of()));
    assertThat(copy.append(end(FILTER, CONNECT, PREPARE), PREPARE, 6)).isTrue();
    assertThat(copy.adoption(CopyOp.adopt("s", 1, false, null, 0), "owner").log()).containsExactly(FILTER, CONNECT, PREPARE);
    assertThat(copy.append(end(FILTER, CONNECT, PREPARE, EXECUTE), EXECUTE, 7)).isTrue();
    assertThat(copy.adoption(CopyOp.adopt("s", 1, false, null, 0), "owner").log())
        .containsExactly(FILTER, CONNECT, PREPARE, EXECUTE);
  }

  @Test
  void aCopyMissingTheBytesBeforeAWriteSaysSoAndTakesNothing() {
    SessionCopy copy = new SessionCopy(CopyOp.open("s", 1, "owner", "admin", List.of(FILTER), List.of(), null, List.of(), List.of()));
    assertThat(copy.append(end(FILTER, CONNECT, PREPARE), PREPARE, 6)).isFalse();
    assertThat(copy.adoption(CopyOp.adopt("s", 1, false, null, 0), "owner").log()).containsExactly(FILTER);
  }
}
