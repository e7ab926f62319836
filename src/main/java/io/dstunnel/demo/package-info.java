// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

/**
 * The demo: a DataSnap-style server ({@link io.dstunnel.demo.DemoServerVerticle}, with its REST side
 * {@code DemoRestVerticle}), the tunnel and REST clients, and the walk-through that starts a proxy
 * in front of two servers. An application beside {@code Main}, not a part of the proxy.
 */
package io.dstunnel.demo;
