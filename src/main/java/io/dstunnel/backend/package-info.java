// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

/**
 * The backends: {@link io.dstunnel.backend.BackendPool}, the entry type, knows each backend's
 * state and the order of candidates for a new session or a failover (a
 * {@code BalancingStrategy}); {@link io.dstunnel.backend.BackendConnectorVerticle} owns the
 * sockets' clients and the health checks and hands out the {@code BackendConnector}. The
 * addresses it listens on are its own ({@link io.dstunnel.backend.BackendAddresses}).
 */
package io.dstunnel.backend;
