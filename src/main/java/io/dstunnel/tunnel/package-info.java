// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

/**
 * The HTTP side of the tunnel: {@link io.dstunnel.tunnel.TunnelVerticle}, the entry type, listens
 * and routes {@code /{context}/tunnel} to a {@code TunnelHandler} (one flat chain per request:
 * parse, authenticate, ask the session layer over the event bus through {@code SessionClient},
 * answer with a status and a JSON body) and {@code /{context}/rest/} to the REST side it asks
 * {@link io.dstunnel.rest.RestService} for. It talks to the session layer and the REST side, never
 * to the backends.
 */
package io.dstunnel.tunnel;
