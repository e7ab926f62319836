// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.support;

import static org.awaitility.Awaitility.await;

import io.dstunnel.Dstunnel;
import io.vertx.core.json.JsonObject;
import java.time.Duration;

/** Waits for what a proxy's sessions show (their admin snapshots), instead of waiting for the clock. */
public final class Sessions {

  private Sessions() {
  }

  /** The snapshot of session {@code sid}, or null when the proxy does not hold it. */
  public static JsonObject snapshot(Dstunnel proxy, String sid) {
    return proxy.sessionSnapshots().await().stream().filter(s -> sid.equals(s.getString("id"))).findFirst()
        .orElse(null);
  }

  /** Waits until session {@code sid} holds exactly {@code n} reads. */
  public static void awaitHeldReads(Dstunnel proxy, String sid, int n) {
    await().atMost(Duration.ofSeconds(10)).until(() -> {
      JsonObject s = snapshot(proxy, sid);
      return s != null && s.getInteger("heldReads") == n;
    });
  }

  /** Waits until session {@code sid} has paused its backend. */
  public static JsonObject awaitBackendPaused(Dstunnel proxy, String sid) {
    JsonObject[] seen = {null};
    await().atMost(Duration.ofSeconds(10)).until(() -> {
      seen[0] = snapshot(proxy, sid);
      return seen[0] != null && seen[0].getBoolean("backendPaused");
    });
    return seen[0];
  }
}
