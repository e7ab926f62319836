package io.dstunnel;

import io.dstunnel.backend.BackendPool;
import io.dstunnel.backend.HealthCheckVerticle;
import io.dstunnel.config.ProxyConfig;
import io.dstunnel.events.EventLog;
import io.dstunnel.session.Addresses;
import io.dstunnel.session.LocalCodec;
import io.dstunnel.session.SessionCounter;
import io.dstunnel.session.SessionVerticle;
import io.dstunnel.tunnel.TunnelVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * One running proxy: the backend pool and its health checker, the session verticles and the
 * HTTP verticles, deployed on a given Vert.x. {@link #start} completes once the tunnel port
 * accepts connections; {@link #stop} undeploys everything it deployed.
 */
public final class Dstunnel {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Dstunnel.class);

  private final Vertx vertx;
  private final ProxyConfig config;
  private final BackendPool pool;
  private final SessionCounter sessions;
  private final List<String> deployments = new CopyOnWriteArrayList<>();
  private final List<TunnelVerticle> tunnels = new CopyOnWriteArrayList<>();

  private Dstunnel(Vertx vertx, ProxyConfig config) {
    this.vertx = vertx;
    this.config = config;
    this.pool = new BackendPool(config, new EventLog());
    pool.onChange(reason -> vertx.eventBus().publish(Addresses.POOL_CHANGED, reason));
    this.sessions = new SessionCounter(config.session().maxSessions());
  }

  /** Deploys a proxy for {@code config}. The codecs are registered once per Vert.x instance. */
  public static Future<Dstunnel> start(Vertx vertx, ProxyConfig config) {
    Dstunnel d = new Dstunnel(vertx, config);
    return d.deploy().map(d);
  }

  private Future<Void> deploy() {
    registerCodecsOnce(vertx);
    EventLog events = new EventLog();
    return vertx.deployVerticle(new HealthCheckVerticle(pool))
        .compose(id -> {
          deployments.add(id);
          return vertx.deployVerticle(() -> new SessionVerticle(config.session(), config.pool(), pool, events, sessions),
              new DeploymentOptions().setInstances(config.session().instances()));
        })
        .compose(id -> {
          deployments.add(id);
          return vertx.deployVerticle(() -> {
            TunnelVerticle t = new TunnelVerticle(config);
            tunnels.add(t);
            return t;
          }, new DeploymentOptions().setInstances(config.http().instances()));
        })
        .compose(id -> {
          deployments.add(id);
          return Future.<Void>succeededFuture();
        })
        .recover(err -> stop().transform(v -> Future.failedFuture(err)));
  }

  private static void registerCodecsOnce(Vertx vertx) {
    synchronized (Dstunnel.class) {
      try {
        LocalCodec.register(vertx.eventBus());
      } catch (IllegalStateException alreadyRegistered) {
        // Another proxy on this Vert.x registered them: the same codecs serve both.
      }
    }
  }

  /** The tunnel port actually bound. */
  public int port() {
    return tunnels.get(0).actualPort();
  }

  public BackendPool pool() {
    return pool;
  }

  /** Sessions open in this proxy. */
  public SessionCounter sessions() {
    return sessions;
  }

  /**
   * Applies a reloaded config without a restart: the backends and the pool and health settings
   * change in place (sessions stay where they are; a removed backend drains). Other sections are
   * read at start-up only; their changes are reported and wait for a restart.
   */
  public void reload(ProxyConfig next) {
    for (String section : java.util.List.of("http", "auth", "session")) {
      Object before = switch (section) {
        case "http" -> config.http();
        case "auth" -> config.auth();
        default -> config.session();
      };
      Object after = switch (section) {
        case "http" -> next.http();
        case "auth" -> next.auth();
        default -> next.session();
      };
      if (!before.equals(after)) {
        LOG.warn("config section {} changed: it applies after a restart", section);
      }
    }
    pool.update(next);
  }

  /** Undeploys the HTTP side first, so no request reaches a session verticle being stopped. */
  public Future<Void> stop() {
    Future<Void> chain = Future.succeededFuture();
    for (int i = deployments.size() - 1; i >= 0; i--) {
      String id = deployments.get(i);
      chain = chain.compose(v -> vertx.undeploy(id).otherwiseEmpty());
    }
    return chain.onComplete(v -> deployments.clear());
  }
}
