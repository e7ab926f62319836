// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session;

import io.dstunnel.session.message.SessionFailure;
import io.dstunnel.session.message.TunnelReply;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Sessions open in this process, shared by every session verticle instance: enforces the
 * session limit and, once draining, refuses new sessions.
 */
public final class SessionCounter {

  private final int limit;
  private final int perUser;
  private final AtomicInteger open = new AtomicInteger();
  private final java.util.concurrent.ConcurrentHashMap<String, Integer> users =
      new java.util.concurrent.ConcurrentHashMap<>();
  private volatile boolean draining;

  public SessionCounter(int limit, int perUser) {
    this.limit = limit;
    this.perUser = perUser;
  }

  /**
   * Takes a place for a new session of {@code user} (null: no auth), tunnel or REST; null when
   * granted, else the refusal.
   */
  public TunnelReply tryOpen(String user) {
    if (draining) {
      return TunnelReply.failed(SessionFailure.DRAINING, "Proxy is draining");
    }
    if (open.incrementAndGet() > limit) {
      open.decrementAndGet();
      return TunnelReply.failed(SessionFailure.PROXY_FULL, "Proxy is over its session limit");
    }
    if (user != null) {
      // Checked and counted in one atomic step, so a concurrent close can never lose the count.
      boolean[] granted = {false};
      users.compute(user, (u, n) -> {
        int count = n == null ? 0 : n;
        granted[0] = count < perUser;
        return granted[0] ? count + 1 : n;
      });
      if (!granted[0]) {
        open.decrementAndGet();
        return TunnelReply.failed(SessionFailure.USER_FULL, "Too many sessions for user " + user);
      }
    }
    return null;
  }

  /** A session taken over from another node (or served here from the cluster's record): counted, never refused. */
  public void adopted(String user) {
    open.incrementAndGet();
    if (user != null) {
      users.merge(user, 1, Integer::sum);
    }
  }

  /** A session of {@code user} ended (or a place taken for one was not used). */
  public void closed(String user) {
    open.decrementAndGet();
    if (user != null) {
      users.computeIfPresent(user, (u, n) -> n <= 1 ? null : n - 1);
    }
  }

  public boolean draining() {
    return draining;
  }

  public int open() {
    return open.get();
  }

  /** From now on new sessions are refused with 503. */
  public void drain() {
    draining = true;
  }
}
