// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session.message;

/**
 * Why a session refused or could not serve a request: the session layer's own words, with no
 * HTTP in them. The HTTP edge maps each to a status once ({@code tunnel.SessionClient}); the
 * message that travels with it says the particulars.
 */
public enum SessionFailure {
  /** Unknown, closed or expired session. */
  EXPIRED,
  /** Credentials of a user other than the session's owner. */
  NOT_OWNER,
  /** No backend took the session's first connection. */
  NO_BACKEND,
  /** The session lost its backend and could not fail over. */
  LOST_BACKEND,
  /** Every backend is at its session limit. */
  BACKENDS_FULL,
  /** The proxy holds as many sessions as it may. */
  PROXY_FULL,
  /** The user holds as many sessions as one user may. */
  USER_FULL,
  /** The proxy is draining: no new sessions. */
  DRAINING,
  /** The backend does not read: the write waited and was not taken. */
  BACKEND_NOT_READING,
  /** This node does not own the session (cluster mode): the caller asks the directory again. */
  NOT_HERE,
  /**
   * Cluster mode: the owner cannot reach the session's copy holder, nor tell it dead (a partition):
   * the request is refused, not run, and the session kept.
   */
  CUT_OFF,
  /** A request the session does not understand. */
  UNEXPECTED,
  /** A bug: logged where it happened. */
  INTERNAL
}
