// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session;

import io.dstunnel.session.message.TunnelCommand;
import io.dstunnel.session.message.TunnelReply;
import io.vertx.core.Future;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which session verticle runs on which event loop. A tunnel instance opens its sessions on the
 * session verticle that shares its thread when there is one: a session's requests, its backend
 * connection and its answers then stay on one thread, with no hand-off (and no wake-up of
 * another thread) between the HTTP side and the session. The launcher sizes the event-loop pool
 * so that every loop has one of each. Any other thread opens round-robin, as before.
 *
 * <p>A request for a session on the calling thread's verticle is handed to it directly
 * ({@link #call}), not over the event bus; every other one, and everything from other nodes and
 * other threads, goes by the session's address as before.
 */
public final class SessionLanes {

  /** A session verticle's way in for requests made on its own event loop. */
  @FunctionalInterface
  interface Door {
    /**
     * Runs {@code cmd} on its session, answered within {@code timeoutMs} (negative: no answer
     * wanted, the future is done at once); null when no session of that id is on this verticle.
     */
    Future<TunnelReply> take(TunnelCommand cmd, long timeoutMs);
  }

  private record Lane(int index, Door door) { }

  private final Map<Thread, Lane> byThread = new ConcurrentHashMap<>();

  /** Called by session verticle {@code index} on its own event loop. */
  void joined(int index, Door door) {
    byThread.putIfAbsent(Thread.currentThread(), new Lane(index, door));
  }

  void left(int index) {
    byThread.values().removeIf(lane -> lane.index() == index);
  }

  /** Whether a session verticle runs on the calling thread. */
  public boolean onThisThread() {
    return byThread.containsKey(Thread.currentThread());
  }

  /** Where a request handled on the calling thread opens a session. */
  public String openAddress() {
    Lane lane = byThread.get(Thread.currentThread());
    return lane == null ? Addresses.OPEN : Addresses.open(lane.index());
  }

  /**
   * {@code cmd}'s answer from its session when that session is on the calling thread's verticle,
   * failing as a bus request would (no answer within {@code timeoutMs}: a
   * {@link io.vertx.core.eventbus.ReplyFailure#TIMEOUT}); null when it is not there (then the bus
   * finds it, or says nobody has it).
   */
  public Future<TunnelReply> call(TunnelCommand cmd, long timeoutMs) {
    Lane lane = byThread.get(Thread.currentThread());
    return lane == null ? null : lane.door().take(cmd, timeoutMs);
  }

  /** Gives {@code cmd}, which wants no answer, to its session if it is on the calling thread's verticle. */
  public boolean send(TunnelCommand cmd) {
    return call(cmd, -1) != null;
  }
}
