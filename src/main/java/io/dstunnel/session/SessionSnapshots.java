// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * What every session looks like now ({@link Session#snapshot()}), gathered from each session
 * verticle instance over the event bus: each answers on its own event loop, so no session state is
 * read from another thread.
 */
public final class SessionSnapshots {

  private SessionSnapshots() {
  }

  /** The snapshots of all sessions of the {@code instances} session verticles. */
  public static Future<List<JsonObject>> gather(Vertx vertx, int instances) {
    List<Future<JsonArray>> parts = new ArrayList<>();
    for (int i = 0; i < instances; i++) {
      parts.add(vertx.eventBus().<JsonArray>request(Addresses.sessionList(i), null, Addresses.LOCAL).map(m -> m.body()));
    }
    return Future.all(parts).map(all -> {
      List<JsonObject> sessions = new ArrayList<>();
      for (Future<JsonArray> part : parts) {
        part.result().forEach(o -> sessions.add((JsonObject) o));
      }
      return sessions;
    });
  }
}
