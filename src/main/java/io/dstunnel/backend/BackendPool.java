package io.dstunnel.backend;

import io.dstunnel.config.ProxyConfig.BackendConfig;
import io.dstunnel.events.EventLog;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The configured backends and the order in which a session should try them.
 *
 * <p>New sessions go to the healthy backends of the lowest priority, round-robin among equals;
 * then the other healthy ones by priority; then, as a last resort (a health mark can be stale
 * by a whole check interval), the ones marked down, preferred first. Thread-safe: every session
 * verticle instance and the health checker share one pool.
 */
public final class BackendPool {

  private final List<Backend> backends;
  private final AtomicLong roundRobin = new AtomicLong();
  private final EventLog events;

  public BackendPool(List<BackendConfig> configs, EventLog events) {
    List<Backend> list = new ArrayList<>();
    configs.forEach(c -> list.add(new Backend(c)));
    list.sort(Comparator.comparingInt(Backend::priority)); // stable: config order among equals
    this.backends = List.copyOf(list);
    this.events = events;
  }

  public List<Backend> backends() {
    return backends;
  }

  /** The order in which a new session tries the backends. */
  public List<Backend> forNewSession() {
    return order(null);
  }

  /** The order in which a session that lost {@code failed} tries the backends; it comes last. */
  public List<Backend> forFailover(Backend failed) {
    return order(failed);
  }

  private List<Backend> order(Backend last) {
    List<Backend> up = new ArrayList<>(backends.size());
    List<Backend> down = new ArrayList<>(backends.size());
    for (Backend b : backends) {
      if (b == last) {
        continue;
      }
      (b.isUp() ? up : down).add(b);
    }
    rotatePreferred(up);
    List<Backend> order = new ArrayList<>(backends.size());
    order.addAll(up);
    order.addAll(down);
    if (last != null) {
      order.add(last);
    }
    return order;
  }

  /** Rotates the group of equal lowest priority at the head of {@code up} by the round-robin counter. */
  private void rotatePreferred(List<Backend> up) {
    if (up.size() < 2) {
      return;
    }
    int group = 1;
    while (group < up.size() && up.get(group).priority() == up.get(0).priority()) {
      group++;
    }
    if (group > 1) {
      int shift = (int) (roundRobin.getAndIncrement() % group);
      java.util.Collections.rotate(up.subList(0, group), -shift);
    }
  }

  /** Records a health observation; a change of state goes to the event log. */
  public void mark(Backend backend, BackendState state, String reason) {
    if (backend.mark(state)) {
      events.health(backend.name(), state, reason);
    }
  }
}
