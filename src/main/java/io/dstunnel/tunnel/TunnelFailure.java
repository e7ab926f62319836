// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.tunnel;

/**
 * A tunnel request that ends in an error: the HTTP status and the message that goes both into the
 * reason phrase (Delphi clients show it) and into the JSON body {@code {"error": message}}.
 */
public final class TunnelFailure extends RuntimeException {

  private final int status;
  private final long retryAfterSeconds;

  public TunnelFailure(int status, String message) {
    this(status, message, 0);
  }

  /** With {@code retryAfterSeconds} > 0, the answer carries {@code Retry-After}. */
  public TunnelFailure(int status, String message, long retryAfterSeconds) {
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

  static TunnelFailure badRequest(String message) {
    return new TunnelFailure(400, message);
  }
}
