// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.auth;

/**
 * A login that was not checked at all, and when to try again. Each listener maps the reason to
 * its HTTP status at its edge.
 */
public final class LoginRefused extends RuntimeException {

  /** Why the login was not checked. */
  public enum Reason {
    /** The address failed too often lately. */
    LOCKED_OUT,
    /** As many password checks are under way as the process runs at once. */
    BUSY
  }

  private final Reason reason;
  private final long retryAfterSeconds;

  LoginRefused(Reason reason, String message, long retryAfterSeconds) {
    super(message, null, false, false);
    this.reason = reason;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public Reason reason() {
    return reason;
  }

  /** HTTP's word for the reason: 429 for a lock-out, 503 when busy. */
  public int status() {
    return reason == Reason.LOCKED_OUT ? 429 : 503;
  }

  public long retryAfterSeconds() {
    return retryAfterSeconds;
  }
}
