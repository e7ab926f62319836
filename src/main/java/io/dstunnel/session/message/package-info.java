// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

/**
 * The session layer's messages on the event bus, the names the HTTP side, the admin API and the
 * cluster speak to a session in: {@link io.dstunnel.session.message.TunnelCommand} (open, write,
 * read, close, ...), {@link io.dstunnel.session.message.TunnelReply} and its
 * {@link io.dstunnel.session.message.SessionFailure}, {@code Adoption} (take a session over from its
 * copy) with the {@code Progress} it resumes from, and the {@code WireCodec}s that pass them by
 * reference on one node and in a binary form between nodes. It imports nothing else of the session.
 */
package io.dstunnel.session.message;
