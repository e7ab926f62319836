package io.dstunnel.session;

/**
 * What a session owes its client, from the requests it counted and the answers it accepted. With
 * "dbx" framing requests are counted; when they cannot be ("raw", or bytes that stop parsing as
 * DBX) a write that no answer byte has followed is what counts as owed.
 */
final class Debts {

  private final RequestCounter requests;
  private final Answers answers;
  private final HangWatch hangs;

  Debts(RequestCounter requests, Answers answers, HangWatch hangs) {
    this.requests = requests;
    this.answers = answers;
    this.hangs = hangs;
  }

  /** An answer is owed: a request without its answer, or (uncounted) a write without answer bytes since. */
  boolean answerOwed() {
    return requests.reliable() ? requests.written() > answers.stream().answersAccepted()
        : hangs.silentSinceLastWrite();
  }

  /** Owed an answer, a request half-written, or an answer half-received: a lost backend is replaced now. */
  boolean inFlight() {
    AnswerStream stream = answers.stream();
    return answerOwed() || requests.reliable() && !requests.atBoundary() || stream.streaming() || stream.held() > 0;
  }

  /** In flight, or answer bytes the client has not read yet. */
  boolean anything() {
    return inFlight() || answers.pending() > 0;
  }

  /** Whether requests are counted ("dbx" that parses), which migration needs. */
  boolean counted() {
    return requests.reliable();
  }
}
