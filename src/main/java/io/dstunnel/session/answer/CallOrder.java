// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session.answer;

import io.vertx.core.buffer.Buffer;

/**
 * The session's calls as its answers see them ({@code session.call.Calls}): they are told of every
 * message the backend sends ({@link AnswerStream.Hooks}), take each framed answer
 * ({@link #deliver}) and hand the answers on in the order of the calls they answer.
 */
public interface CallOrder extends AnswerStream.Hooks {

  /** A framed answer, or a piece of a streamed one, from the backend. */
  void deliver(Buffer bytes, AnswerStream.Piece piece);

  /** Where answers go once in order ({@code sink}), and how a made-up answer is counted. */
  void deliverTo(AnswerStream.Sink sink, Runnable synthesized);

  /** The session ended: nothing more is handed on. */
  void close();
}
