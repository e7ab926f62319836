// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.backend;

import io.dstunnel.config.PoolConfig;
import io.dstunnel.config.PoolConfig.Strategy;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Chooses among the backends of the preferred priority that accept new sessions, the way Vert.x's
 * own load balancers do: a small function with named policies. The chosen backend comes first in
 * the returned order; the others follow, to be tried if it refuses the connection.
 *
 * <p>Slow start: a backend that recovered less than the slow-start window ago counts with a
 * weight ramped from 0 to its full weight ({@code ramp} gives the fraction).
 */
@FunctionalInterface
public interface BalancingStrategy {

  /** Gives a backend's ramp (0..1) at the moment of choosing. */
  @FunctionalInterface
  interface Ramp {
    double of(Backend b);
  }

  List<Backend> order(List<Backend> group, Ramp ramp);

  static BalancingStrategy of(Strategy strategy) {
    return switch (strategy) {
      case ROUND_ROBIN -> smoothWeighted(false);
      case WEIGHTED -> smoothWeighted(true);
      case LEAST_SESSIONS -> leastSessions();
      case POWER_OF_TWO_CHOICES -> powerOfTwoChoices();
    };
  }

  /**
   * Smooth weighted round-robin (as nginx does it): each pick adds every backend's weight to its
   * credit and takes the one with the most, which then pays the total. Equal weights alternate
   * exactly; {@code useWeights} false means every backend weighs 1.
   */
  static BalancingStrategy smoothWeighted(boolean useWeights) {
    java.util.Map<Backend, double[]> credit = new java.util.WeakHashMap<>();
    return (group, ramp) -> {
      if (group.size() < 2) {
        return group;
      }
      Backend best = null;
      synchronized (credit) {
        double total = 0;
        double bestCredit = Double.NEGATIVE_INFINITY;
        for (Backend b : group) {
          double w = (useWeights ? b.weight() : 1) * Math.max(ramp.of(b), 0.001);
          double[] c = credit.computeIfAbsent(b, k -> new double[1]);
          c[0] += w;
          total += w;
          if (c[0] > bestCredit) {
            bestCredit = c[0];
            best = b;
          }
        }
        credit.get(best)[0] -= total;
      }
      return first(best, group);
    };
  }

  /** The backend with the fewest sessions per unit of weight; ties go round-robin. */
  static BalancingStrategy leastSessions() {
    AtomicLong tie = new AtomicLong();
    return (group, ramp) -> {
      if (group.size() < 2) {
        return group;
      }
      List<Backend> pool = rampFilter(group, ramp);
      int offset = (int) (tie.getAndIncrement() % pool.size());
      Backend best = null;
      double bestLoad = Double.MAX_VALUE;
      for (int i = 0; i < pool.size(); i++) {
        Backend b = pool.get((i + offset) % pool.size());
        double load = b.sessions() / (double) b.weight();
        if (load < bestLoad) {
          bestLoad = load;
          best = b;
        }
      }
      return first(best, group);
    };
  }

  /** Two backends drawn at random (by weight); the one with fewer sessions per weight wins. */
  static BalancingStrategy powerOfTwoChoices() {
    return (group, ramp) -> {
      if (group.size() < 2) {
        return group;
      }
      List<Backend> pool = rampFilter(group, ramp);
      if (pool.size() < 2) {
        return first(pool.get(0), group);
      }
      Backend a = draw(pool, null);
      Backend b = draw(pool, a);
      double la = a.sessions() / (double) a.weight();
      double lb = b.sessions() / (double) b.weight();
      return first(la <= lb ? a : b, group);
    };
  }

  private static Backend draw(List<Backend> pool, Backend not) {
    double total = 0;
    for (Backend b : pool) {
      total += b == not ? 0 : b.weight();
    }
    double x = ThreadLocalRandom.current().nextDouble(total);
    for (Backend b : pool) {
      if (b == not) {
        continue;
      }
      x -= b.weight();
      if (x < 0) {
        return b;
      }
    }
    return pool.get(pool.size() - 1) == not ? pool.get(0) : pool.get(pool.size() - 1);
  }

  /** Leaves out, at random, backends still ramping up (kept with probability = ramp). */
  private static List<Backend> rampFilter(List<Backend> group, Ramp ramp) {
    List<Backend> kept = new ArrayList<>(group.size());
    for (Backend b : group) {
      double r = ramp.of(b);
      if (r >= 1 || ThreadLocalRandom.current().nextDouble() < r) {
        kept.add(b);
      }
    }
    return kept.isEmpty() ? group : kept;
  }

  private static List<Backend> first(Backend chosen, List<Backend> group) {
    List<Backend> order = new ArrayList<>(group.size());
    order.add(chosen);
    for (Backend b : group) {
      if (b != chosen) {
        order.add(b);
      }
    }
    return order;
  }
}
