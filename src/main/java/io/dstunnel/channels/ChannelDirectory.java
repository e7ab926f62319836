package io.dstunnel.channels;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * Which backends hold callback channels of which name, as learned from the registrations that
 * passed through this proxy (a channel is counted from the moment its registration is sent to a
 * backend until it closes or the session leaves that backend). Proxy-wide, written from every
 * session event loop.
 */
public final class ChannelDirectory {

  private final Map<String, Map<String, Integer>> holders = new ConcurrentHashMap<>();

  /** A registration for {@code channel} was sent to {@code backend}. */
  public void opened(String channel, String backend) {
    holders.computeIfAbsent(channel, c -> new ConcurrentHashMap<>()).merge(backend, 1, Integer::sum);
  }

  /** A channel of that name on {@code backend} closed, or its session left that backend. */
  public void closed(String channel, String backend) {
    holders.computeIfPresent(channel, (c, byBackend) -> {
      byBackend.computeIfPresent(backend, (b, n) -> n <= 1 ? null : n - 1);
      return byBackend.isEmpty() ? null : byBackend;
    });
  }

  /** The backends holding a channel named {@code channel}. */
  public Set<String> holders(String channel) {
    Map<String, Integer> byBackend = holders.get(channel);
    return byBackend == null ? Set.of() : byBackend.keySet().stream().collect(Collectors.toUnmodifiableSet());
  }

  /** Open channels (for the metrics and the admin side). */
  public int open() {
    return holders.values().stream().mapToInt(m -> m.values().stream().mapToInt(Integer::intValue).sum()).sum();
  }
}
