// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

/**
 * Who is calling: {@link io.dstunnel.auth.Authenticator}, the entry type, checks Basic credentials
 * against the configured users ({@code Passwords}: PBKDF2 hashes); {@code Logins} and
 * {@code LoginThrottle} refuse a client after repeated failures, shared by both listeners;
 * {@code ClientAddress} is the real client behind a trusted front.
 */
package io.dstunnel.auth;
