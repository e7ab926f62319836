// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.backend;

/**
 * The event-bus addresses the backend connector listens on. They belong to the backend layer:
 * whoever tells the connector of a change (the proxy's wiring, the session verticles that listen
 * too) uses these names rather than the connector reaching up into the session layer's.
 */
public final class BackendAddresses {

  /** Published on every change of a backend's health, mode or membership; the body is the reason. */
  public static final String POOL_CHANGED = "dstunnel.pool.changed";

  private BackendAddresses() {
  }
}
