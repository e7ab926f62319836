// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

/**
 * What the proxy tells its operators: {@link io.dstunnel.events.EventLog}, the entry type, writes
 * the event log and counts into {@code ProxyMetrics} (Micrometer, {@code /metrics}); the recent
 * events are kept for the status page ({@code EventHistory}).
 */
package io.dstunnel.events;
