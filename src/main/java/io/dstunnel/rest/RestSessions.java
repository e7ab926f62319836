package io.dstunnel.rest;

import io.dstunnel.backend.Backend;
import io.dstunnel.session.SessionIds;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The proxy's REST sessions and callback channels, shared by every tunnel verticle instance.
 * Sessions idle longer than {@code session.idleTimeoutMs} are forgotten ({@link #expire}); a
 * channel's client is pinned to the backend its last {@code ConsumeClientChannel} went to.
 */
public final class RestSessions {

  private final Map<String, RestSession> sessions = new ConcurrentHashMap<>();
  private final Map<String, Backend> channelClients = new ConcurrentHashMap<>();
  private final Map<String, Map<String, Backend>> channelConsumers = new ConcurrentHashMap<>();
  private final long idleNanos;

  public RestSessions(long idleTimeoutMs) {
    this.idleNanos = TimeUnit.MILLISECONDS.toNanos(idleTimeoutMs);
  }

  RestSession get(String id) {
    return id == null ? null : sessions.get(id);
  }

  /** A new session: an id of 144 random bits, never the backend's. */
  RestSession open(String user, String authorization, Backend backend, String backendId) {
    RestSession s = new RestSession(SessionIds.next(), user, authorization, backend, backendId);
    sessions.put(s.id(), s);
    return s;
  }

  void close(RestSession s) {
    sessions.remove(s.id());
  }

  /** Forgets sessions idle past the timeout; how many. */
  public int expire() {
    long now = System.nanoTime();
    int before = sessions.size();
    sessions.values().removeIf(s -> !s.busy() && now - s.lastUsed() > idleNanos);
    return before - sessions.size();
  }

  public int size() {
    return sessions.size();
  }

  /** Channel clients known (their ConsumeClientChannel went through). */
  public int channelClients() {
    return channelClients.size();
  }

  /** What the admin API shows of each REST session (never its credentials). */
  public java.util.List<io.vertx.core.json.JsonObject> snapshots() {
    long now = System.nanoTime();
    java.util.List<io.vertx.core.json.JsonObject> list = new java.util.ArrayList<>();
    for (RestSession s : sessions.values()) {
      Backend b = s.backend();
      list.add(new io.vertx.core.json.JsonObject().put("id", s.id()).put("kind", "rest").put("user", s.user())
          .put("state", "ACTIVE").put("backend", b == null ? null : b.name()).put("connected", b != null && b.isUp())
          .put("idleMs", TimeUnit.NANOSECONDS.toMillis(now - s.lastUsed())));
    }
    return list;
  }

  /** Closes the REST session {@code id} (an operator's action); whether there was one. */
  public boolean close(String id) {
    return id != null && sessions.remove(id) != null;
  }

  // ---- channels ------------------------------------------------------------------------------

  /** {@code clientId} consumes {@code channel} on {@code backend}. */
  void consumes(String channel, String clientId, Backend backend) {
    Backend old = channelClients.put(clientId, backend);
    Map<String, Backend> consumers = channelConsumers.computeIfAbsent(channel, c -> new ConcurrentHashMap<>());
    consumers.put(clientId, backend);
    if (old != null && old != backend) {
      consumers.remove(clientId, old);
      consumers.put(clientId, backend);
    }
  }

  /** The backend holding {@code clientId}'s channel, or null. */
  Backend channelOf(String clientId) {
    return clientId == null ? null : channelClients.get(clientId);
  }

  /** The backends with consumers of {@code channel}. */
  java.util.Set<Backend> consumersOf(String channel) {
    Map<String, Backend> consumers = channelConsumers.get(channel);
    return consumers == null ? java.util.Set.of() : java.util.Set.copyOf(consumers.values());
  }

  /** {@code clientId}'s channel closed. */
  void channelClosed(String clientId) {
    Backend b = channelClients.remove(clientId);
    if (b != null) {
      channelConsumers.values().forEach(m -> m.remove(clientId));
    }
  }
}
