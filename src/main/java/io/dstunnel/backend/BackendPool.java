// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.backend;

import io.dstunnel.config.BackendMode;
import io.dstunnel.config.ProxyConfig;
import io.dstunnel.config.BackendConfig;
import io.dstunnel.config.PoolConfig;
import io.dstunnel.config.PoolConfig.Failback;
import io.dstunnel.events.EventLog;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The configured backends and the order in which a session should try them.
 *
 * <p>New sessions go to the backends of the lowest priority that accept new sessions, chosen by
 * the balancing strategy; then to the other accepting ones by priority; then, as a last resort (a
 * health mark can be stale by a whole check interval), to the active ones marked down, preferred
 * first. Drained, migrating, disabled and removed backends take no new session. Thread-safe:
 * every session verticle instance and the health checker share one pool.
 */
public final class BackendPool {

  private volatile List<Backend> backends;
  private volatile PoolConfig config;
  private volatile BalancingStrategy strategy;
  private final EventLog events;
  private final AtomicLong generation = new AtomicLong();
  private volatile Consumer<String> onChange = reason -> { };

  public BackendPool(ProxyConfig config, EventLog events) {
    this.events = events;
    this.config = config.pool();
    this.strategy = BalancingStrategy.of(config.pool().strategy());
    List<Backend> list = new ArrayList<>();
    config.backends().forEach(c -> list.add(new Backend(c)));
    this.backends = sorted(list);
  }

  private static List<Backend> sorted(List<Backend> list) {
    List<Backend> copy = new ArrayList<>(list);
    copy.sort(Comparator.comparingInt(Backend::priority)); // stable: config order among equals
    return List.copyOf(copy);
  }

  /** Called (on any thread) after every change of health, mode or membership. */
  public void onChange(Consumer<String> listener) {
    this.onChange = listener;
  }

  /** Grows on every change; lets a session verticle see cheaply whether to look for migrations. */
  public long generation() {
    return generation.get();
  }

  public List<Backend> backends() {
    return backends;
  }

  public PoolConfig config() {
    return config;
  }

  public Backend byName(String name) {
    for (Backend b : backends) {
      if (b.name().equals(name)) {
        return b;
      }
    }
    return null;
  }

  /** The order in which a new session tries the backends; empty when none may take it. */
  public List<Backend> forNewSession() {
    return order(null);
  }

  /** The order in which a session that lost {@code failed} tries the backends; it comes last. */
  public List<Backend> forFailover(Backend failed) {
    return order(failed);
  }

  /** Whether a new session was refused because every backend that could take it is full. */
  public boolean allFull() {
    boolean any = false;
    for (Backend b : backends) {
      if (b.mode() == BackendMode.ACTIVE) {
        if (!b.full()) {
          return false;
        }
        any = true;
      }
    }
    return any;
  }

  /**
   * Whether idle sessions on {@code current} should move: away from a backend being migrated or
   * disabled, or (failback "migrate-idle") back to a recovered backend of a better priority, and
   * only if another backend accepts them. Asks no balancing strategy, so it moves no round-robin
   * credit: the migration scan asks it once per backend and tick.
   */
  public boolean mustLeave(Backend current) {
    if (current == null) {
      return false;
    }
    boolean evicting = current.evicting();
    boolean failback = config.failback() == Failback.MIGRATE_IDLE;
    if (!evicting && !failback) {
      return false;
    }
    int best = Integer.MAX_VALUE;
    for (Backend b : backends) {
      if (b != current && b.acceptsNewSessions()) {
        best = Math.min(best, b.priority());
      }
    }
    return best != Integer.MAX_VALUE && (evicting || best < current.priority());
  }

  /** Where an idle session on {@code current} should move (see {@link #mustLeave}), or null to stay. */
  public Backend migrationTarget(Backend current) {
    if (!mustLeave(current)) {
      return null;
    }
    List<Backend> order = order(current);
    return order.isEmpty() || !order.get(0).acceptsNewSessions() ? null : order.get(0);
  }

  private List<Backend> order(Backend last) {
    long now = System.nanoTime();
    long slow = TimeUnit.MILLISECONDS.toNanos(config.slowStartMs());
    List<Backend> accepting = new ArrayList<>(backends.size());
    List<Backend> fallback = new ArrayList<>(backends.size());
    for (Backend b : backends) {
      if (b == last) {
        continue;
      }
      if (b.acceptsNewSessions()) {
        accepting.add(b);
      } else if (b.lastResort()) {
        fallback.add(b);
      }
    }
    List<Backend> order = new ArrayList<>(backends.size());
    if (!accepting.isEmpty()) {
      int group = 1;
      while (group < accepting.size() && accepting.get(group).priority() == accepting.get(0).priority()) {
        group++;
      }
      order.addAll(strategy.order(accepting.subList(0, group), b -> b.ramp(now, slow)));
      order.addAll(accepting.subList(group, accepting.size()));
    }
    order.addAll(fallback);
    if (last != null && last.lastResort()) {
      order.add(last);
    }
    return order;
  }

  /** A successful check or connect. */
  public void success(Backend b, String what) {
    Boolean flipped = b.observe(true, b.config().health().rise(), b.config().health().fall());
    if (flipped != null) {
      events.health(b.name(), b.state().name(), what);
      changed(b.name() + " up");
    }
  }

  /** A failed check, a refused connect, a reset or a hang. */
  public void failure(Backend b, String what) {
    Boolean flipped = b.observe(false, b.config().health().rise(), b.config().health().fall());
    if (flipped != null) {
      if (config.failback() == Failback.NONE) {
        b.held(true);
      }
      events.health(b.name(), b.state().name(), what);
      changed(b.name() + " down");
    }
  }

  /** Sets a backend's mode (admin API); "active" also lifts a failback "none" hold. */
  public synchronized boolean mode(String name, BackendMode mode) {
    Backend b = byName(name);
    if (b == null) {
      return false;
    }
    b.adminMode(mode);
    if (mode == BackendMode.ACTIVE) {
      b.held(false);
    }
    events.health(b.name(), b.state().name(), "mode " + mode.key());
    changed(b.name() + " " + mode.key());
    return true;
  }

  /**
   * Applies a reloaded config: new backends join, known ones (same name, host and port) take
   * their new settings in place (re-enabling one lifts a hold), removed ones drain and leave the
   * list once their last session has gone.
   */
  public synchronized void update(ProxyConfig next) {
    config = next.pool();
    strategy = BalancingStrategy.of(next.pool().strategy());
    Map<String, Backend> old = new HashMap<>();
    backends.forEach(b -> old.put(b.name(), b));
    List<Backend> list = new ArrayList<>();
    for (BackendConfig c : next.backends()) {
      Backend known = old.remove(c.name());
      if (known != null && known.config().sameServer(c) && !known.removed()) {
        if (known.config().mode() != c.mode()) {
          // The file changed this backend's own mode: that is the operator's word now.
          known.adminMode(null);
          if (c.mode() == BackendMode.ACTIVE) {
            known.held(false);
          }
        }
        known.config(c);
        list.add(known);
      } else {
        if (known != null) {
          known.remove();
          old.put(c.name() + "\u0000old", known);
        }
        list.add(new Backend(c));
      }
    }
    for (Backend gone : old.values()) {
      gone.remove();
      if (gone.sessions() > 0) {
        list.add(gone);
      }
    }
    backends = sorted(list);
    events.health("*", null, "config reloaded: " + list.size() + " backends");
    changed("reload");
  }

  /** Drops removed backends whose last session has gone. */
  public synchronized void pruneRemoved() {
    List<Backend> now = backends;
    boolean any = false;
    for (Backend b : now) {
      any |= b.removed() && b.sessions() == 0;
    }
    if (any) {
      backends = sorted(backends.stream().filter(b -> !(b.removed() && b.sessions() == 0)).toList());
      changed("pruned");
    }
  }

  private void changed(String reason) {
    generation.incrementAndGet();
    onChange.accept(reason);
  }
}
