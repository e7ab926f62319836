// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session.lane;

import io.dstunnel.backend.BackendConnector;
import io.dstunnel.backend.BackendPool;
import io.dstunnel.channels.ChannelDirectory;
import io.dstunnel.config.SessionConfig;
import io.dstunnel.events.EventLog;
import io.vertx.core.Context;

/**
 * What every session of one session verticle shares: its event loop, the pool and the connector
 * to reach backends, the event log, the proxy-wide answer budget, the settings, and the proxy-wide
 * directory of callback channels.
 */
public record SessionServices(Context context, BackendPool pool, BackendConnector connector, EventLog events,
                       AnswerBudget budget, SessionConfig config, long answerTimeoutMs, ChannelDirectory channels) {
}
