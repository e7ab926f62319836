// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.events;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.ArrayList;

/**
 * The latest health changes, failovers and admin actions, newest last, for the status page. Bounded; written from
 * any event loop (a short synchronized append), read by the admin API.
 */
public final class EventHistory {

  private static final int SIZE = 200;

  private final ArrayDeque<JsonObject> health = new ArrayDeque<>();
  private final ArrayDeque<JsonObject> failovers = new ArrayDeque<>();
  private final ArrayDeque<JsonObject> audit = new ArrayDeque<>();

  synchronized void health(JsonObject e) {
    add(health, e);
  }

  synchronized void failover(JsonObject e) {
    add(failovers, e);
  }

  synchronized void audit(JsonObject e) {
    add(audit, e);
  }

  private static void add(ArrayDeque<JsonObject> q, JsonObject e) {
    q.addLast(e.put("at", System.currentTimeMillis()));
    if (q.size() > SIZE) {
      q.removeFirst();
    }
  }

  public synchronized JsonArray health() {
    return new JsonArray(new ArrayList<>(health));
  }

  public synchronized JsonArray failovers() {
    return new JsonArray(new ArrayList<>(failovers));
  }

  public synchronized JsonArray audit() {
    return new JsonArray(new ArrayList<>(audit));
  }
}
