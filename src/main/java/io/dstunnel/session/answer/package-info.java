// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

/**
 * A session's answers on their way to the client: {@link io.dstunnel.session.answer.Answers} frames
 * what the backend sends ({@code AnswerStream}), hands it to the client's reads, held or not
 * ({@code Readers}), and draws on the proxy-wide answer budget, pausing the backend when it is
 * spent. The session's calls see every answer through {@link io.dstunnel.session.answer.CallOrder},
 * which {@code session.call} implements: the answers do not know the calls.
 */
package io.dstunnel.session.answer;
