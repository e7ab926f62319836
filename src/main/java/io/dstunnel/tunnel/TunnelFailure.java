package io.dstunnel.tunnel;

/**
 * A tunnel request that ends in an error: the HTTP status and the message that goes both into the
 * reason phrase (Delphi clients show it) and into the JSON body {@code {"error": message}}.
 */
public final class TunnelFailure extends RuntimeException {

  private final int status;

  public TunnelFailure(int status, String message) {
    super(message, null, false, false);
    this.status = status;
  }

  public int status() {
    return status;
  }

  static TunnelFailure badRequest(String message) {
    return new TunnelFailure(400, message);
  }
}
