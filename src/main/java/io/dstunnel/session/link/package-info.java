// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

/**
 * A session's backend connection: {@link io.dstunnel.session.link.BackendLink} owns the socket (one
 * epoch check for every callback, the two reasons to pause it), and
 * {@link io.dstunnel.session.link.HangWatch} notices a backend that stops answering.
 */
package io.dstunnel.session.link;
