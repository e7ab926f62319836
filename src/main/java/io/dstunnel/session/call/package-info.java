// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

/**
 * A "dbx" session's calls, one level above bytes: {@link io.dstunnel.session.call.Calls} knows which
 * method each command handle runs, the calls still owed an answer in order, the callback channel the
 * session may have become; {@code Broadcasts} runs its broadcasts on the other backends too;
 * {@code RequestCounter} finds the client's messages in the stream it writes.
 */
package io.dstunnel.session.call;
