// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which session verticle runs on which event loop. A tunnel instance opens its sessions on the
 * session verticle that shares its thread when there is one: a session's requests, its backend
 * connection and its answers then stay on one thread, with no hand-off (and no wake-up of
 * another thread) between the HTTP side and the session. The launcher sizes the event-loop pool
 * so that every loop has one of each. Any other thread opens round-robin, as before.
 */
public final class SessionLanes {

  private final Map<Thread, Integer> byThread = new ConcurrentHashMap<>();

  /** Called by session verticle {@code index} on its own event loop. */
  void joined(int index) {
    byThread.putIfAbsent(Thread.currentThread(), index);
  }

  void left(int index) {
    byThread.values().remove(index);
  }

  /** Whether a session verticle runs on the calling thread. */
  public boolean onThisThread() {
    return byThread.containsKey(Thread.currentThread());
  }

  /** Where a request handled on the calling thread opens a session. */
  public String openAddress() {
    Integer index = byThread.get(Thread.currentThread());
    return index == null ? Addresses.OPEN : Addresses.open(index);
  }
}
