// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

/**
 * The log lines: {@link io.dstunnel.logging.LogFormat}, the entry type, picks text or JSON
 * ({@code TextLineEncoder}, {@code JsonLineEncoder}) for Logback, with control characters escaped.
 */
package io.dstunnel.logging;
