// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session.copy;

/**
 * The owner of a session could not reach a copy holder that may, for all it can tell, have taken
 * the session over: the holder neither answered nor refused connections (a partition, not a
 * death: cluster.md §7). The request is refused and the session kept, to be served again once the
 * holder answers — or by the holder's side, which adopts it.
 */
public final class CutOff extends RuntimeException {

  public CutOff(String message) {
    super(message, null, false, false);
  }
}
