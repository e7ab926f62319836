// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

/**
 * What the client writes: {@link io.dstunnel.session.write.Writes} holds writes untaken while the
 * backend does not read, and {@link io.dstunnel.session.write.ReplayLog} keeps every byte written
 * since the open, for a replay to another backend.
 */
package io.dstunnel.session.write;
