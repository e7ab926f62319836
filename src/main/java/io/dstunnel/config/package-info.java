// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

/**
 * The configuration: {@link io.dstunnel.config.ProxyConfig}, the entry type, parses and validates
 * the JSON config once, one class a section ({@code HttpConfig}, {@code SessionConfig},
 * {@code ClusterConfig}, ...), with environment overrides over the file; {@code ConfigWatcher}
 * reloads it; {@code Version} is this build's version.
 */
package io.dstunnel.config;
