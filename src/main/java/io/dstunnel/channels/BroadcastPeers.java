// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.channels;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How the copies of a broadcast that dstunnel fans out to other backends fare with each backend:
 * how many are under way, and whether the backend is hung (it let a copy go unanswered past the
 * broadcast timeout; the copy's connection was then closed). A hung backend is skipped, its copies
 * not sent, until it answers a probe that carries no value: a hang costs one broadcast its
 * timeout, not every one. At most {@link #MAX_PENDING} copies are under way to one backend, a
 * bound on what a slow one holds, far above what a burst of broadcasts to healthy servers needs;
 * more are skipped. Keyed by backend name; thread-safe (the REST side's verticle instances share
 * one, the DBX broadcaster has its own).
 */
public final class BroadcastPeers {

  /** The most broadcast copies under way to one backend at a time. */
  public static final int MAX_PENDING = 256;

  private static final class Peer {
    final AtomicInteger pending = new AtomicInteger();
    final AtomicBoolean probing = new AtomicBoolean();
    volatile boolean hung;
  }

  private final Map<String, Peer> peers = new ConcurrentHashMap<>();

  private Peer peer(String backend) {
    return peers.computeIfAbsent(backend, n -> new Peer());
  }

  /**
   * Whether a copy may go to {@code backend} now: it is not hung and has fewer than
   * {@link #MAX_PENDING} under way. If so, the copy counts as under way until {@link #done}.
   */
  public boolean admit(String backend) {
    Peer p = peer(backend);
    if (p.hung) {
      return false;
    }
    if (p.pending.incrementAndGet() > MAX_PENDING) {
      p.pending.decrementAndGet();
      return false;
    }
    return true;
  }

  /** An admitted copy is over (answered, failed, or timed out and its connection closed). */
  public void done(String backend) {
    peer(backend).pending.decrementAndGet();
  }

  /** A copy went unanswered past the timeout: the backend is hung. Whether it was not before. */
  public boolean timedOut(String backend) {
    Peer p = peer(backend);
    boolean was = p.hung;
    p.hung = true;
    return !was;
  }

  public boolean hung(String backend) {
    Peer p = peers.get(backend);
    return p != null && p.hung;
  }

  /** Copies under way to {@code backend} now. */
  public int pending(String backend) {
    Peer p = peers.get(backend);
    return p == null ? 0 : p.pending.get();
  }

  /**
   * Whether the caller is to probe {@code backend} now: it is hung and no probe is under way.
   * The caller then reports the outcome with {@link #probed}.
   */
  public boolean probe(String backend) {
    Peer p = peer(backend);
    return p.hung && p.probing.compareAndSet(false, true);
  }

  /**
   * Probes hung {@code backend} every half {@code timeoutMs} (at least 500 ms) with {@code probe}
   * (one at a time, see {@link #probe}) until it answers: the first broadcast after it recovers
   * reaches it, rather than being skipped to find out.
   */
  public void watch(io.vertx.core.Vertx vertx, String backend, long timeoutMs, Runnable probe) {
    vertx.setTimer(Math.max(500, timeoutMs / 2), t -> {
      if (hung(backend)) {
        if (probe(backend)) {
          probe.run();
        }
        watch(vertx, backend, timeoutMs, probe);
      }
    });
  }

  /** A probe's outcome; an answer ends the hang. Whether the backend recovered thereby. */
  public boolean probed(String backend, boolean answered) {
    Peer p = peer(backend);
    boolean recovered = answered && p.hung;
    if (answered) {
      p.hung = false;
    }
    p.probing.set(false);
    return recovered;
  }
}
