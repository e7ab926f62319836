// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.channels;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which backends hold callback channels of which name, as learned from the registrations that
 * passed through this proxy (a channel is counted from the moment its registration is sent to a
 * backend until it closes or the session leaves that backend), and, in a cluster, through the
 * other nodes ({@link #heard}). Proxy-wide, written from every session event loop.
 */
public final class ChannelDirectory {

  private final Map<String, Map<String, Integer>> holders = new ConcurrentHashMap<>();
  /** What the other nodes of a cluster hold: node → channel → backends. */
  private final Map<String, Map<String, Set<String>>> remote = new ConcurrentHashMap<>();
  private volatile Runnable onChange = () -> { };

  /** Called after every change of this node's own channels (a cluster node tells the others). */
  public void onChange(Runnable listener) {
    this.onChange = listener;
  }

  /** A registration for {@code channel} was sent to {@code backend}. */
  public void opened(String channel, String backend) {
    holders.computeIfAbsent(channel, c -> new ConcurrentHashMap<>()).merge(backend, 1, Integer::sum);
    onChange.run();
  }

  /** A channel of that name on {@code backend} closed, or its session left that backend. */
  public void closed(String channel, String backend) {
    holders.computeIfPresent(channel, (c, byBackend) -> {
      byBackend.computeIfPresent(backend, (b, n) -> n <= 1 ? null : n - 1);
      return byBackend.isEmpty() ? null : byBackend;
    });
    onChange.run();
  }

  /** The backends holding a channel named {@code channel}, through this node or any other. */
  public Set<String> holders(String channel) {
    Set<String> all = new HashSet<>();
    Map<String, Integer> byBackend = holders.get(channel);
    if (byBackend != null) {
      all.addAll(byBackend.keySet());
    }
    remote.values().forEach(state -> all.addAll(state.getOrDefault(channel, Set.of())));
    return Set.copyOf(all);
  }

  /** This node's own channels: channel → backends holding one. */
  public Map<String, Set<String>> local() {
    Map<String, Set<String>> state = new java.util.HashMap<>();
    holders.forEach((channel, byBackend) -> state.put(channel, Set.copyOf(byBackend.keySet())));
    return state;
  }

  /** Node {@code node}'s channels now (it told this node); replaces what it said before. */
  public void heard(String node, Map<String, Set<String>> state) {
    remote.put(node, state);
  }

  /** Node {@code node} left the cluster: its channels are its adopters' now, who tell of them. */
  public void forget(String node) {
    remote.remove(node);
  }

  /** Open channels (for the metrics and the admin side). */
  public int open() {
    return holders.values().stream().mapToInt(m -> m.values().stream().mapToInt(Integer::intValue).sum()).sum();
  }
}
