// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session;

import io.dstunnel.backend.Backend;
import io.dstunnel.session.answer.Answers;
import io.dstunnel.session.link.BackendLink;
import io.vertx.core.json.JsonObject;

/** What the admin API shows of a session: its state and counters, never a byte of its log or answers. */
final class SessionSnapshot {

  private SessionSnapshot() {
  }

  static JsonObject of(Session s) {
    BackendLink link = s.link();
    Backend b = link.backend();
    Answers answers = s.answers();
    return new JsonObject().put("id", s.id()).put("kind", "tunnel").put("user", s.owner()).put("state", s.state().name())
        .put("backend", b == null ? null : b.name()).put("connected", link.connected())
        .put("failovers", s.failover().count()).put("replayable", s.log().replayable())
        .put("replayBytes", s.log().bytes())
        .put("idleMs", (System.nanoTime() - s.lastActivity()) / 1_000_000).put("heldReads", answers.waitingReads())
        .put("backendPaused", link.paused())
        .put("pendingBytes", answers.pending() + answers.stream().held())
        .put("owed", s.owesTheClient())
        .put("channel", s.calls().channelName());
  }
}
