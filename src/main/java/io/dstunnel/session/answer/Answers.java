// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session.answer;

import io.dstunnel.framing.Framing;
import io.dstunnel.session.lane.AnswerBudget;
import io.dstunnel.session.lane.SessionServices;
import io.dstunnel.session.link.BackendLink;
import io.dstunnel.session.link.HangWatch;
import io.dstunnel.session.message.Progress;
import io.dstunnel.session.message.SessionFailure;
import io.dstunnel.session.message.TunnelReply;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;

/**
 * The answer side of one session: the backend's bytes framed into answers ({@link AnswerStream}),
 * the answers waiting for reads and the reads waiting for answers ({@link Readers}), and the
 * memory they take. A client that does not read pauses its backend past the per-session limit;
 * all sessions together report to the proxy-wide {@link AnswerBudget}, which pauses backends too.
 * A backend paused by either is resumed with its answer clock restarted ({@link HangWatch}).
 */
public final class Answers {

  private final String session;
  private final SessionServices services;
  private final BackendLink link;
  private final HangWatch hangs;
  private final AnswerStream stream;
  private final Readers readers;
  private long budgetShare;
  private boolean closed;

  private final CallOrder calls;

  /** {@code calls}: the session's calls, which see every answer and push ("dbx"; empty with "raw"). */
  public Answers(String session, SessionServices services, BackendLink link, HangWatch hangs, CallOrder calls) {
    this.session = session;
    this.services = services;
    this.link = link;
    this.hangs = hangs;
    this.calls = calls;
    Framing framing = services.config().framing();
    this.stream = new AnswerStream(framing, services.config().heldAnswerLimitBytes(), calls::deliver, calls);
    calls.deliverTo(this::accept, stream::countAnswer);
    this.readers = new Readers(services.context().owner(), this::afterTake);
  }

  /** Answer bytes from the backend; a stream that is not DBX throws {@code FramingException}. */
  public void feed(Buffer chunk, boolean preamble) {
    try {
      stream.feed(chunk, preamble);
    } finally {
      account();
    }
  }

  /** A new connection: its answers start afresh; the first {@code drop} (the client has them) are dropped. */
  public void restart(long drop) {
    stream.restart(drop);
  }

  public AnswerStream stream() {
    return stream;
  }

  /** Answer bytes not yet read. */
  public long pending() {
    return readers.pending();
  }

  public int waitingReads() {
    return readers.waitingReads();
  }

  /** Up to {@code max} bytes now if there are some; else {@code refusal} if given, else a held read. */
  public Future<TunnelReply> read(int max, long readId, long sliceMs, TunnelReply refusal) {
    if (readers.pending() > 0) {
      return Future.succeededFuture(readers.take(max));
    }
    return refusal != null ? Future.succeededFuture(refusal) : readers.hold(max, readId, sliceMs);
  }

  public void cancelRead(long readId) {
    readers.cancel(readId);
  }

  /** How far the client had got when {@code offset} answer bytes were handed out (see {@link Readers#progressAt}). */
  public Progress progressAt(long offset) {
    return readers.progressAt(offset);
  }

  /** How far the client has got with what was handed out so far. */
  public Progress progress() {
    return readers.progressAt(readers.given());
  }

  /** A session taken over from a copy: the client has {@code given}; what follows is handed out after it. */
  public void assumeGiven(Progress given) {
    stream.assumeGiven(given);
    readers.startAt(given);
  }

  /** Takes back bytes a read could not deliver, if they were the last handed out. */
  public boolean unread(Buffer bytes, long offset) {
    boolean back = !closed && readers.unread(bytes, offset);
    account();
    return back;
  }

  /** Answers every held read with {@code failure}. */
  public void failReads(SessionFailure failure, String message) {
    readers.failAll(failure, message);
    account();
  }

  /** The session ended: every byte is let go and held reads learn it has expired. */
  public void close() {
    closed = true;
    calls.close();
    readers.clear();
    stream.clear();
    readers.failAll(SessionFailure.EXPIRED, "Session expired");
    account();
  }

  private void accept(Buffer bytes, AnswerStream.Piece piece) {
    readers.add(bytes, piece);
    if (!link.pausedForReader() && readers.pending() > services.config().pendingReadLimitBytes()) {
      link.pauseForReader(true);
    }
  }

  /** A client read {@code bytes}: a backend paused for it resumes once half its backlog is gone. */
  private void afterTake(int bytes) {
    services.events().read(session, bytes);
    if (link.pausedForReader() && readers.pending() <= services.config().pendingReadLimitBytes() / 2) {
      link.pauseForReader(false);
      hangs.resumed();
    }
    account();
  }

  /** Tells the proxy-wide budget what this session holds now; pauses the backend if it is spent. */
  private void account() {
    long now = closed ? 0 : readers.pending() + stream.held();
    AnswerBudget budget = services.budget();
    budget.adjust(now - budgetShare);
    budgetShare = now;
    if (now == 0 && link.pausedForBudget()) {
      // It holds nothing: pausing it frees nothing. It may read again (one chunk) even while the
      // budget is spent, so a session whose client reads is never starved by those that do not.
      link.pauseForBudget(false);
      hangs.resumed();
    } else if (now > 0 && budget.spent() && link.connected() && !link.paused()) {
      // A held, unfinished answer could never be read: with every session holding one, nothing
      // would ever free the budget. It is handed out (streamed) so that the client can read it.
      stream.release();
      link.pauseForBudget(true);
      budget.whenRoom(services.context(), () -> {
        link.pauseForBudget(false);
        hangs.resumed();
      });
    }
  }
}
