// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.auth;

import io.dstunnel.config.AuthConfig;
import io.dstunnel.config.Role;
import io.dstunnel.config.UserConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.auth.hashing.HashingStrategy;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * HTTP Basic authentication against the configured users. Plain passwords are compared in
 * constant time; hashed ones ({@code passwordHash}, PHC strings verified by vertx-auth-common)
 * are verified on a worker thread, since a slow hash would block the event loop, and at most one
 * per core at a time (more fail with {@link LoginRefused}, 503). A header that
 * passed is remembered (a bounded LRU, in memory only, like the config's own passwords), so the
 * next request with it costs one map lookup. One instance per
 * verticle instance: not thread-safe, never shared between event loops.
 */
public final class Authenticator {

  private static final int CACHE_SIZE = 1024;
  /** Password hashes verified at once in this process: more would only queue up CPU. */
  private static final int MAX_HASHES = Math.max(2, Runtime.getRuntime().availableProcessors());
  private static final AtomicInteger HASHING = new AtomicInteger();

  private final Vertx vertx;
  private final Map<String, UserConfig> users = new HashMap<>();
  private final HashingStrategy hashing;
  private final Map<String, String> verified = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
      return size() > CACHE_SIZE;
    }
  };

  public Authenticator(Vertx vertx, AuthConfig config) {
    this.vertx = vertx;
    config.users().forEach(u -> users.put(u.name(), u));
    this.hashing = config.users().stream().anyMatch(u -> u.passwordHash() != null) ? HashingStrategy.load() : null;
  }

  public boolean enabled() {
    return !users.isEmpty();
  }

  /** Whether {@code user} (as {@link #authenticate} gave it) holds {@code role}. */
  public boolean holds(String user, Role role) {
    UserConfig u = user == null ? null : users.get(user);
    return u != null && u.holds(role);
  }

  /** The user of a header verified before, or null. */
  public String known(String header) {
    return header == null ? null : verified.get(header);
  }

  /**
   * The user named by a valid {@code Authorization: Basic} header; null (never a failed future)
   * when the header is absent, malformed or wrong.
   */
  public Future<String> authenticate(String header) {
    if (header == null || header.length() < 6 || !header.regionMatches(true, 0, "Basic ", 0, 6)) {
      return Future.succeededFuture(null);
    }
    // Clients send the same header with every request: a header verified before is known by its value.
    String known = verified.get(header);
    if (known != null) {
      return Future.succeededFuture(known);
    }
    String decoded;
    try {
      decoded = new String(Base64.getDecoder().decode(header.substring(6).trim()), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return Future.succeededFuture(null);
    }
    int colon = decoded.indexOf(':');
    if (colon < 0) {
      return Future.succeededFuture(null);
    }
    String name = decoded.substring(0, colon);
    String password = decoded.substring(colon + 1);
    UserConfig user = users.get(name);
    if (user == null) {
      return Future.succeededFuture(null);
    }
    if (user.password() != null) {
      boolean ok = MessageDigest.isEqual(user.password().getBytes(StandardCharsets.UTF_8),
          password.getBytes(StandardCharsets.UTF_8));
      if (ok) {
        verified.put(header, name);
      }
      return Future.succeededFuture(ok ? name : null);
    }
    if (HASHING.incrementAndGet() > MAX_HASHES) {
      HASHING.decrementAndGet();
      return Future.failedFuture(new LoginRefused(LoginRefused.Reason.BUSY, "Too many logins under way; retry", 1));
    }
    return vertx.executeBlocking(() -> hashing.verify(user.passwordHash(), password), false)
        .onComplete(ar -> HASHING.decrementAndGet())
        .map(ok -> {
          if (ok) {
            verified.put(header, name);
            return name;
          }
          return (String) null;
        })
        .otherwise((String) null);
  }
}
