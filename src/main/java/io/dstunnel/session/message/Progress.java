// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session.message;

/**
 * How far a session's client has got in the backend's answers: the answers it has been handed
 * whole, the bytes it has of the next one, and every answer byte handed out (pushes to a callback
 * channel included). Owner and copies keep the same value; an adopter resumes from it, to the
 * byte, without guessing from the kind of request that reached it.
 *
 * @param answers answers (not pushes) handed out whole: a replay's first answers to drop
 * @param partBytes bytes of the next answer already handed out: to drop from its head
 * @param bytes every answer byte handed out (with "raw" framing, all there is to know)
 */
public record Progress(long answers, long partBytes, long bytes) {

  /** Nothing handed out yet. */
  public static final Progress NONE = new Progress(0, 0, 0);
}
