// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

/**
 * A session's answers on their way to the client: {@link io.dstunnel.session.answer.Answers} frames
 * what the backend sends ({@code AnswerStream}), hands it to the client's reads, held or not
 * ({@code Readers}), and keeps the proxy-wide {@link io.dstunnel.session.answer.AnswerBudget} of answer
 * bytes not yet read, pausing the backend when it is spent. {@code Progress} is how far the client has
 * got in the answers, the value a copy carries and an adopter resumes from.
 */
package io.dstunnel.session.answer;
