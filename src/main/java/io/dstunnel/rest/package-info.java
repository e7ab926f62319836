// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

/**
 * DataSnap REST through dstunnel (rest.md): the HTTP listener gets its {@link io.dstunnel.rest.RestProxy}
 * from {@link io.dstunnel.rest.RestService}, the entry type, and hands it the requests under
 * {@code /{context}/rest/}; the proxy relays them to the backends' REST ports with dstunnel's own
 * session ids ({@link io.dstunnel.rest.RestSessions}; their records in a cluster's map,
 * {@code RestSessionRecords}). Its parts, package-private: where a request
 * goes ({@code RestRoutes}), sending and sending again ({@code RestRetries}), the session ids on
 * the wire ({@code RestPragma}), callback channels ({@code RestChannels}, {@code RestChannelDirectory})
 * and broadcasts ({@code RestBroadcast}).
 */
package io.dstunnel.rest;
