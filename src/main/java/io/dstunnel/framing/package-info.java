// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

/**
 * Where a backend's answer ends: {@link io.dstunnel.framing.Framing} names the framings, and
 * {@link io.dstunnel.framing.DbxFramer} finds DataSnap message boundaries incrementally, keeping
 * no bytes.
 */
package io.dstunnel.framing;
