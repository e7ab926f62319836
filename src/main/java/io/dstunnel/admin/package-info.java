// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

/**
 * The admin listener: {@link io.dstunnel.admin.AdminVerticle}, the entry type, serves the admin API
 * ({@code AdminApi}), the probes, {@code /metrics} and the status page, behind {@code AdminGuard}
 * (Host, authentication, roles, CSRF); {@code NodeStatus} and {@code StatusHistory} feed the page's
 * node panel and charts.
 */
package io.dstunnel.admin;
