// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

/**
 * The tunnel sessions: {@link io.dstunnel.session.SessionVerticle} (one instance per lane) owns the
 * sessions opened through it and applies their requests in order on its event loop; each
 * {@link io.dstunnel.session.Session} is the state machine ({@link io.dstunnel.session.SessionState})
 * with its failover. Also the session layer's names for the rest of the proxy:
 * {@code Addresses}, session ids, lanes and counters; its messages on the event bus are in
 * {@code message}. The parts a session is made of are in the sub-packages: {@code call},
 * {@code answer}, {@code write}, {@code link}, what a lane's sessions share in {@code lane}, and its
 * side of the cluster in {@code copy}; {@code SessionCopyView} is how the cluster sees a session of
 * this package and takes one over from its copy. The parts never import this package.
 */
package io.dstunnel.session;
