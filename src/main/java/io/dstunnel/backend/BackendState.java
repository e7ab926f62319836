// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.backend;

/** A backend as the proxy sees it: health and the operator's mode together. */
public enum BackendState {
  /** Healthy and active: takes new sessions. */
  UP,
  /** Failed its health checks or live traffic: tried for new sessions only as a last resort. */
  DOWN,
  /** Drained, being migrated, or removed from the config: takes no new session. */
  DRAINING,
  /** Disabled by the operator: takes nothing, not even as a last resort. */
  DISABLED
}
