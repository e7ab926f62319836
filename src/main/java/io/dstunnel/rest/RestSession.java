// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.rest;

import io.dstunnel.backend.Backend;
import io.vertx.core.http.HttpServerResponse;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One REST session as dstunnel's clients know it: dstunnel's own id, mapped to the backend that
 * holds it and that backend's own session id. Keeps the credentials that opened it, to open a
 * fresh backend session when its backend dies (in memory only, never logged or shown).
 */
final class RestSession {

  private final String id;
  private final String user;
  private final String authorization;
  private Backend backend;
  private String backendId;
  private volatile long lastUsed = System.nanoTime();
  private volatile long sharedAt;
  private io.vertx.core.Promise<Void> relogin;
  /** The last write of this session's record to the cluster's map, done or under way. */
  private volatile io.vertx.core.Future<Void> sharing = io.vertx.core.Future.succeededFuture();
  private Backend counted;
  private final AtomicInteger inFlight = new AtomicInteger();
  /** Holds a place among the proxy's sessions (session.maxSessions, maxSessionsPerUser) on this node. */
  private final java.util.concurrent.atomic.AtomicBoolean placeHeld = new java.util.concurrent.atomic.AtomicBoolean();

  RestSession(String id, String user, String authorization, Backend backend, String backendId) {
    this.id = id;
    this.user = user;
    this.authorization = authorization;
    this.backend = backend;
    this.backendId = backendId;
  }

  String id() {
    return id;
  }

  String user() {
    return user;
  }

  /** The {@code Authorization} header that opened the session, or null. */
  String authorization() {
    return authorization;
  }

  synchronized Backend backend() {
    return backend;
  }

  synchronized String backendId() {
    return backendId;
  }

  /** The session now lives on {@code b} as {@code id} (a re-login, or the backend renamed it). */
  synchronized void boundTo(Backend b, String id) {
    this.backend = b;
    this.backendId = id;
  }

  /** The session holds the place its opening request took (see {@link #releasePlace}). */
  void holdPlace() {
    placeHeld.set(true);
  }

  /** Whether the session held a place, which it gives up now (once). */
  boolean releasePlace() {
    return placeHeld.getAndSet(false);
  }

  void touch() {
    lastUsed = System.nanoTime();
  }

  /**
   * A request of the session started, answered by {@code response}: until it ends (or its
   * connection closes) the session does not expire, however long a long poll lasts.
   */
  void begin(HttpServerResponse response, Runnable alsoAtEnd) {
    inFlight.incrementAndGet();
    touch();
    AtomicBoolean over = new AtomicBoolean();
    Runnable end = () -> {
      if (over.compareAndSet(false, true)) {
        inFlight.decrementAndGet();
        touch();
        alsoAtEnd.run();
      }
    };
    response.bodyEndHandler(v -> end.run());
    response.closeHandler(v -> end.run());
  }

  /**
   * The re-login of this session under way on this node, to wait for; or null, and then the
   * caller is the one that logs it in again and calls {@link #reloggedIn} once its answer is out.
   */
  synchronized io.vertx.core.Future<Void> reloginUnderWay() {
    if (relogin != null) {
      return relogin.future();
    }
    relogin = io.vertx.core.Promise.promise();
    return null;
  }

  /** The re-login this node had under way is over (answered, failed, or its client left). */
  synchronized void reloggedIn() {
    if (relogin != null) {
      relogin.tryComplete();
      relogin = null;
    }
  }

  boolean busy() {
    return inFlight.get() > 0;
  }

  long lastUsed() {
    return lastUsed;
  }

  /** The backend it now counts toward on this node ({@code b}, or none); the one it counted toward. */
  synchronized Backend counted(Backend b) {
    Backend was = counted;
    counted = b;
    return was;
  }

  /** When its record last went to the cluster's map. */
  long sharedAt() {
    return sharedAt;
  }

  /** The last write of the record, done or under way (a close removes the record after it). */
  io.vertx.core.Future<Void> sharing() {
    return sharing;
  }

  void sharing(io.vertx.core.Future<Void> write) {
    sharing = write;
  }

  void shared(long at) {
    sharedAt = at;
  }

  @Override
  public String toString() {
    return "RestSession[" + id + ", user=" + user + "]";
  }
}
