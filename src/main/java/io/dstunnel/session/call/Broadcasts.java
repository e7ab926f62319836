// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session.call;

import io.dstunnel.backend.Backend;
import io.dstunnel.channels.ChannelBroadcaster;
import io.dstunnel.session.lane.SessionServices;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * A session's {@code BroadcastToChannel} calls fanned out: once the session's own backend has
 * answered one, the same value goes to every other backend holding a channel of that name
 * ({@link ChannelBroadcaster}, over the event bus). What they say decides the client's one answer,
 * {@code [true]} if any backend took it; that answer waits for them ({@link InOrder}).
 */
final class Broadcasts {

  static final String METHOD = "DSAdmin.BroadcastToChannel";

  private final SessionServices services;

  Broadcasts(SessionServices services) {
    this.services = services;
  }

  /** Whether {@code call}, just answered by {@code home} (null if none), runs on the other backends too. */
  static boolean runsElsewhere(Calls.Call call, Backend home) {
    return METHOD.equals(call.method) && call.channel != null && home != null;
  }

  /** Runs broadcast {@code call} on every backend but {@code home} that holds its channel: whether one took it. */
  Future<Boolean> elsewhere(Calls.Call call, Backend home) {
    JsonObject ask = new JsonObject().put("channel", call.channel).put("value", call.value).put("except", home.name());
    return services.context().owner().eventBus().<JsonObject>request(ChannelBroadcaster.ADDRESS, ask)
        .map(reply -> reply.body().getBoolean("took", false))
        .otherwise(false);
  }
}
