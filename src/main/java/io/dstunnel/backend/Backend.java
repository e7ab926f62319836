package io.dstunnel.backend;

import io.dstunnel.config.ProxyConfig.BackendConfig;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One backend server and what the proxy knows of it. Shared by every event loop of the process,
 * so its mutable parts are atomics; a state change is reported to exactly one caller.
 */
public final class Backend {

  private final BackendConfig config;
  private final AtomicReference<BackendState> state = new AtomicReference<>(BackendState.UP);
  private final AtomicInteger sessions = new AtomicInteger();

  public Backend(BackendConfig config) {
    this.config = config;
  }

  public String name() {
    return config.name();
  }

  public String host() {
    return config.host();
  }

  public int port() {
    return config.port();
  }

  public int priority() {
    return config.priority();
  }

  public BackendState state() {
    return state.get();
  }

  public boolean isUp() {
    return state.get() == BackendState.UP;
  }

  /** Sets the state; true when it changed (the caller reports the change). */
  public boolean mark(BackendState next) {
    return state.getAndSet(next) != next;
  }

  /** Sessions currently attached to this backend. */
  public int sessions() {
    return sessions.get();
  }

  public void attached() {
    sessions.incrementAndGet();
  }

  public void detached() {
    sessions.decrementAndGet();
  }

  @Override
  public String toString() {
    return name() + "(" + host() + ":" + port() + ")";
  }
}
