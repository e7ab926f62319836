package io.dstunnel.auth;

/**
 * A login that was not checked at all: the address is locked out (429, with the seconds to wait)
 * or too many password checks are under way (503). Mapped to HTTP at each listener's edge.
 */
public final class LoginRefused extends RuntimeException {

  private final int status;
  private final long retryAfterSeconds;

  LoginRefused(int status, String message, long retryAfterSeconds) {
    super(message, null, false, false);
    this.status = status;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public int status() {
    return status;
  }

  public long retryAfterSeconds() {
    return retryAfterSeconds;
  }
}
