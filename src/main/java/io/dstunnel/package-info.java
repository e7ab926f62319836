// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

/**
 * The wiring of dstunnel: {@link io.dstunnel.Main} reads the command line and the
 * {@code Launcher} starts what it asked for; {@link io.dstunnel.Dstunnel}, the entry type, is one
 * running proxy: it makes the shared parts (pool, counters, metrics, the cluster node), deploys the
 * verticles of every layer in order, reloads, drains ({@code Drain}) and stops. Nothing below
 * imports this package.
 */
package io.dstunnel;
