package io.dstunnel.backend;

/** Health of a backend as the proxy sees it. */
public enum BackendState {
  /** Passed its last health check or served a connection: takes new sessions. */
  UP,
  /** Failed its last health check or a live connection: only tried as a last resort. */
  DOWN
}
