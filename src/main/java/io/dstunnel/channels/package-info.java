// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

/**
 * Callback channels of tunnel sessions: {@link io.dstunnel.channels.ChannelDirectory}, the entry
 * type, knows which backend holds which channel; {@code ChannelBroadcaster} runs a broadcast on
 * every backend with consumers of the channel; {@code BroadcastPeers} tracks how each backend
 * fares with those copies (under way, hung).
 */
package io.dstunnel.channels;
