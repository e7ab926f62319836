// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session.answer;

import io.dstunnel.framing.DbxFramer;
import io.dstunnel.framing.Framing;
import io.dstunnel.framing.FramingException;
import io.dstunnel.session.message.Progress;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;

/**
 * The answer side of a session: finds where answers end in the backend's bytes ("dbx"), holds an
 * answer until it is whole (up to the held-answer limit, past which it streams), counts what the
 * client has been given, and after a failover drops the standby's first answers (or bytes, "raw")
 * that the client already has. Accepted bytes go to the session's sink.
 */
public final class AnswerStream {

  /** What a piece handed on is: part of an answer, the end of one (or a whole one), or a push. */
  public enum Piece { PART, END, PUSH }

  /** Where accepted bytes go, with what they are. */
  public interface Sink {
    void accept(Buffer bytes, Piece piece);
  }

  private final Framing framing;
  private final int heldLimit;
  private final Sink sink;
  private final DbxFramer framer = new DbxFramer();
  private boolean primed;
  private final Held partial = new Held();
  private boolean streaming;
  private long answersAccepted;
  private long bytesAccepted;
  private long dropAnswers;
  private long dropBytes;
  /** Bytes to cut from the head of the next answer accepted: the client has them (an adoption). */
  private long skipNext;

  /** What a session that knows its calls ({@link CallOrder}) is told of the backend's messages. */
  public interface Hooks {
    /** Whether pushes can come now (a callback channel is open): else no message is looked at. */
    boolean channelOpen();

    /** Whether a message (its first bytes) is a push to the channel: handed on, no answer to anything. */
    boolean isPush(Buffer head);

    /** An answer was accepted ({@code whole}, or the end of a streamed one), before it is handed on. */
    void answered(Buffer answer);

    /** After an answer was handed on. */
    void afterAnswer();

    /** A replayed answer the client already has, dropped. */
    void dropped(Buffer whole);
  }

  private final Hooks hooks;

  AnswerStream(Framing framing, int heldLimit, Sink sink, Hooks hooks) {
    this.framing = framing;
    this.heldLimit = heldLimit;
    this.sink = sink;
    this.hooks = hooks;
  }

  /**
   * A new backend connection: its stream starts afresh, and what the client already has is
   * dropped: {@code answers} answers ("dbx": those the new connection will answer again).
   */
  void restart(long answers) {
    primed = false;
    partial.clear();
    streaming = false;
    dropAnswers = answers;
    dropBytes = bytesAccepted;
  }

  /** The session answered a call itself (a call that must not run again, lost with a backend). */
  void countAnswer() {
    answersAccepted++;
  }

  /**
   * Takes the next bytes of the backend's stream.
   *
   * @param preamble whether the stream begins with a filter answer (the client sent the query)
   * @throws FramingException when the stream is not DBX
   */
  void feed(Buffer chunk, boolean preamble) {
    if (framing == Framing.RAW) {
      int skip = (int) Math.min(dropBytes, chunk.length());
      dropBytes -= skip;
      if (skip < chunk.length()) {
        Buffer rest = skip == 0 ? chunk : chunk.slice(skip, chunk.length());
        bytesAccepted += rest.length();
        sink.accept(rest, Piece.PART);
      }
      return;
    }
    if (!primed) {
      framer.reset(preamble);
      primed = true;
    }
    int[] start = {0};
    framer.feed(chunk, end -> {
      Buffer piece = chunk.slice(start[0], end);
      start[0] = end;
      if (hooks != null && !streaming && hooks.channelOpen()
          && hooks.isPush(partial.length() > 0 ? partial.head(64, piece) : piece)) {
        // A push is no answer: never dropped, never counted.
        if (partial.length() > 0) {
          partial.add(piece);
          piece = partial.take();
        }
        sink.accept(piece, Piece.PUSH);
        return;
      }
      if (dropAnswers > 0) {
        dropAnswers--;
        if (hooks != null) {
          hooks.dropped(partial.length() > 0 ? partial.head(64, piece) : piece);
        }
        partial.clear();
        return;
      }
      if (partial.length() > 0) {
        partial.add(piece);
        piece = partial.take();
      }
      answersAccepted++;
      streaming = false;
      if (hooks != null) {
        hooks.answered(piece);
      }
      emit(piece, Piece.END);
      if (hooks != null) {
        hooks.afterAnswer();
      }
    });
    if (start[0] < chunk.length() && dropAnswers == 0) {
      Buffer tail = chunk.slice(start[0], chunk.length());
      if (streaming) {
        emit(tail, Piece.PART);
      } else {
        partial.add(tail);
        if (partial.length() > heldLimit) {
          // Too large to hold whole: stream it; a failure before its end now ends the session.
          streaming = true;
          emit(partial.take(), Piece.PART);
        }
      }
    }
  }

  /** Hands an answer's bytes on, less those of its head that the client already has ({@link #skipNext}). */
  private void emit(Buffer bytes, Piece piece) {
    if (skipNext > 0) {
      int cut = (int) Math.min(skipNext, bytes.length());
      skipNext -= cut;
      bytes = bytes.slice(cut, bytes.length());
      if (bytes.length() == 0 && piece == Piece.PART) {
        return;
      }
    }
    sink.accept(bytes, piece);
  }

  /**
   * Hands out the unfinished answer held so far and streams the rest of it: under memory pressure
   * a client must be able to read (and so free) what its session holds. The answer can then no
   * longer be finished by a standby, as with any streamed answer.
   */
  void release() {
    if (partial.length() > 0) {
      streaming = true;
      emit(partial.take(), Piece.PART);
    }
  }

  /**
   * A session taken over from a copy: the client already has {@code given.answers()} answers and
   * the first {@code given.partBytes()} bytes of the next ("dbx"), or {@code given.bytes()} ("raw").
   */
  void assumeGiven(Progress given) {
    answersAccepted = given.answers();
    bytesAccepted = given.bytes();
    skipNext = framing == Framing.DBX ? given.partBytes() : 0;
  }

  /** Part of an answer has been handed out: no standby can finish it. */
  public boolean streaming() {
    return streaming;
  }

  /** Bytes of an unfinished answer held back. */
  public int held() {
    return partial.length();
  }

  public long answersAccepted() {
    return answersAccepted;
  }

  /** What a standby must skip: answers ("dbx") or bytes ("raw") the client already has. */
  public long alreadyGiven() {
    return framing == Framing.DBX ? answersAccepted : bytesAccepted;
  }

  void clear() {
    partial.clear();
  }

  /**
   * The pieces of an unfinished answer, kept as they came and joined once into a buffer of exactly
   * their size (a buffer grown by appending doubles, and can hold twice the bytes).
   */
  private static final class Held {
    private final ArrayList<Buffer> pieces = new ArrayList<>();
    private int length;

    void add(Buffer piece) {
      pieces.add(piece);
      length += piece.length();
    }

    int length() {
      return length;
    }

    /** The first {@code n} bytes of the held pieces and {@code last}, to look at (the pieces stay held). */
    Buffer head(int n, Buffer last) {
      Buffer head = Buffer.buffer(n);
      for (Buffer p : pieces) {
        head.appendBuffer(p, 0, Math.min(p.length(), n - head.length()));
        if (head.length() == n) {
          return head;
        }
      }
      return head.appendBuffer(last, 0, Math.min(last.length(), n - head.length()));
    }

    Buffer take() {
      Buffer whole;
      if (pieces.size() == 1) {
        whole = pieces.get(0);
      } else {
        whole = Buffer.buffer(length);
        pieces.forEach(whole::appendBuffer);
      }
      clear();
      return whole;
    }

    void clear() {
      pieces.clear();
      length = 0;
    }
  }
}
