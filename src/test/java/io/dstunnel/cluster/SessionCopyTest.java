package io.dstunnel.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What a copy tells its adopter the client already has, as the request that noticed the owner's
 * death decides (cluster.md, item 3): the answers the adopter's replay must not hand out again.
 */
class SessionCopyTest {

  private static final Buffer FILTER = Buffer.buffer(new byte[] {5, 5, 5, 5, 5});
  private static final Buffer CONNECT = Buffer.buffer("{\"method\":\"connect\",\"params\":[{}]}");
  private static final Buffer PREPARE = Buffer.buffer("{\"method\":\"prepare\",\"params\":[-1]}");
  private static final Buffer EXECUTE = Buffer.buffer("{\"method\":\"execute\",\"params\":[1,[1]]}");

  /** A copy of a session whose client wrote the filter query, connect, prepare and execute (write 7). */
  private static SessionCopy copyWithExecuteAsWrite7() {
    SessionCopy copy = new SessionCopy(new CopyOp(CopyOp.Kind.OPEN, "s", 1, "owner", "admin", 0, 0,
        List.of(FILTER), List.of()));
    assertThat(copy.append(end(FILTER, CONNECT), CONNECT, 5)).isTrue();
    assertThat(copy.append(end(FILTER, CONNECT, PREPARE), PREPARE, 6)).isTrue();
    assertThat(copy.append(end(FILTER, CONNECT, PREPARE, EXECUTE), EXECUTE, 7)).isTrue();
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

  @Test
  void aNewWriteNoticingTheDeathMeansTheClientHasEveryAnswer() {
    assertThat(copyWithExecuteAsWrite7().adoption(CopyOp.WRITE_SEEN, 8).answersGiven()).isEqualTo(4);
    assertThat(copyWithExecuteAsWrite7().adoption(CopyOp.WRITE_SEEN, 0).answersGiven()).isEqualTo(4);
  }

  /**
   * A forwarded write that the dead owner applied and copied, its answer lost with the owner, is
   * sent again by the forwarding node with its id: the client has not had the answer to it. (Before
   * this was told apart, that answer was dropped from the replay and the client's next read hung.)
   */
  @Test
  void aWriteAlreadyInTheCopyIsTheClientsLastAndItsAnswerIsStillOwed() {
    assertThat(copyWithExecuteAsWrite7().adoption(CopyOp.WRITE_SEEN, 7).answersGiven()).isEqualTo(3);
  }

  @Test
  void aReadNoticingTheDeathIsOwedTheAnswersToTheLastWrite() {
    assertThat(copyWithExecuteAsWrite7().adoption(CopyOp.READ_SEEN, 0).answersGiven()).isEqualTo(3);
  }

  @Test
  void aHandOverSaysHowManyAnswersTheClientHas() {
    assertThat(copyWithExecuteAsWrite7().adoption(2, 0).answersGiven()).isEqualTo(2);
  }

  /**
   * The soak's duplicates after a roll: the copy was made again, whole, while the last write's own
   * copy was on its way; that write, arriving after, must not be taken twice (its adopter answered
   * it twice: one more answer than the client had asked for).
   */
  @Test
  void aWriteTheCopyWasMadeAgainWithIsNotTakenTwice() {
    SessionCopy copy = new SessionCopy(new CopyOp(CopyOp.Kind.OPEN, "s", 1, "owner", "admin", 0, 0,
        List.of(FILTER, CONNECT, PREPARE), List.of(5L, 6L)));
    assertThat(copy.append(end(FILTER, CONNECT, PREPARE), PREPARE, 6)).isTrue();
    assertThat(copy.adoption(CopyOp.WRITE_SEEN, 0).log()).containsExactly(FILTER, CONNECT, PREPARE);
    assertThat(copy.adoption(CopyOp.WRITE_SEEN, 0).answersGiven()).isEqualTo(3);
    assertThat(copy.append(end(FILTER, CONNECT, PREPARE, EXECUTE), EXECUTE, 7)).isTrue();
    assertThat(copy.adoption(CopyOp.WRITE_SEEN, 0).answersGiven()).isEqualTo(4);
  }

  @Test
  void aCopyMissingTheBytesBeforeAWriteSaysSoAndTakesNothing() {
    SessionCopy copy = new SessionCopy(new CopyOp(CopyOp.Kind.OPEN, "s", 1, "owner", "admin", 0, 0,
        List.of(FILTER), List.of()));
    assertThat(copy.append(end(FILTER, CONNECT, PREPARE), PREPARE, 6)).isFalse();
    assertThat(copy.adoption(CopyOp.WRITE_SEEN, 0).log()).containsExactly(FILTER);
  }
}
