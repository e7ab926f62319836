// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session;

import io.dstunnel.session.answer.AnswerStream;
import io.dstunnel.session.answer.Answers;
import io.dstunnel.session.call.Calls;
import io.dstunnel.session.call.RequestCounter;
import io.dstunnel.session.link.HangWatch;

/**
 * What a session owes its client, from the requests it counted and the answers it accepted. With
 * "dbx" framing requests are counted; when they cannot be ("raw", or bytes that stop parsing as
 * DBX) a write that no answer byte has followed is what counts as owed.
 */
final class Debts {

  private final RequestCounter requests;
  private final Answers answers;
  private final HangWatch hangs;
  private final Calls calls;

  Debts(RequestCounter requests, Answers answers, HangWatch hangs, Calls calls) {
    this.requests = requests;
    this.answers = answers;
    this.hangs = hangs;
    this.calls = calls;
  }

  /**
   * An answer is owed: a request without its answer, or (uncounted) a write without answer bytes
   * since. An open callback channel's registration is not owed in this sense: it is answered only
   * when the channel closes, so no answer timeout applies to it.
   */
  boolean answerOwed() {
    if (!requests.reliable()) {
      return hangs.silentSinceLastWrite();
    }
    long open = calls.channelOpen() ? 1 : 0;
    return requests.written() > answers.stream().answersAccepted() + open;
  }

  /**
   * Owed an answer, a request half-written, an answer half-received, or an open callback channel
   * (its pushes must go on): a lost backend is replaced now.
   */
  boolean inFlight() {
    AnswerStream stream = answers.stream();
    return answerOwed() || calls.channelOpen() || requests.reliable() && !requests.atBoundary()
        || stream.streaming() || stream.held() > 0;
  }

  /**
   * Owed an answer (not an open channel: it may stay open for ever), or bytes not yet read, also
   * those that wait behind a broadcast's answer (a hand-over must not leave them behind).
   */
  boolean anything() {
    AnswerStream stream = answers.stream();
    return answerOwed() || requests.reliable() && !requests.atBoundary() || stream.streaming() || stream.held() > 0
        || answers.pending() > 0 || calls.answersWaiting();
  }

  /** Whether requests are counted ("dbx" that parses), which migration needs. */
  boolean counted() {
    return requests.reliable();
  }
}
