// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel;

import io.dstunnel.admin.AdminVerticle;
import io.dstunnel.auth.LoginThrottle;
import io.dstunnel.backend.BackendAddresses;
import io.dstunnel.backend.BackendConnectorVerticle;
import io.dstunnel.backend.BackendPool;
import io.dstunnel.channels.ChannelBroadcaster;
import io.dstunnel.channels.ChannelDirectory;
import io.dstunnel.cluster.BackendModes;
import io.dstunnel.cluster.ClusterChannels;
import io.dstunnel.cluster.ClusterMetrics;
import io.dstunnel.cluster.ClusterNode;
import io.dstunnel.cluster.ClusterReplication;
import io.dstunnel.cluster.ClusterVerticle;
import io.dstunnel.cluster.SessionRouter;
import io.dstunnel.config.ProxyConfig;
import io.dstunnel.events.EventHistory;
import io.dstunnel.events.EventLog;
import io.dstunnel.events.ProxyMetrics;
import io.dstunnel.rest.RestService;
import io.dstunnel.rest.RestSessions;
import io.dstunnel.session.Addresses;
import io.dstunnel.session.SessionCounter;
import io.dstunnel.session.SessionLanes;
import io.dstunnel.session.SessionSnapshots;
import io.dstunnel.session.SessionVerticle;
import io.dstunnel.session.copy.Replication;
import io.dstunnel.session.lane.AnswerBudget;
import io.dstunnel.session.message.WireCodec;
import io.dstunnel.tunnel.TunnelVerticle;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.BindException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running proxy: the backend pool and its health checker, the session verticles and the
 * HTTP verticles, deployed on a given Vert.x. {@link #start} completes once the tunnel port
 * accepts connections; {@link #reload} applies a changed config in place; {@link #drain} stops it
 * gracefully (the waiting is {@link Drain}'s); {@link #stop} undeploys everything it deployed. The
 * backend gauges follow the pool ({@link BackendGauges}); the REST side is {@link RestService}'s.
 */
public final class Dstunnel {

  /** A leaving cluster node stops once no request has been answered for this long. */
  private static final long QUIET_MS = 1000;
  private static final Logger LOG = LoggerFactory.getLogger(Dstunnel.class);

  private static final AtomicInteger RANDOM_PORT_KEYS = new AtomicInteger();

  private final Vertx vertx;
  private final ProxyConfig config;
  private final BackendPool pool;
  private final SessionCounter sessions;
  private final LoginThrottle throttle;
  private final AnswerBudget budget;
  private final SessionLanes lanes = new SessionLanes();
  private final RestSessions rest;
  /** The REST side, as the HTTP listeners see it (shared by their instances). */
  private final RestService restService;
  /** This node in its cluster, or null for a single node. */
  private final ClusterNode cluster;
  private final List<String> deployments = new CopyOnWriteArrayList<>();
  private final List<TunnelVerticle> tunnels = new CopyOnWriteArrayList<>();
  private volatile AdminVerticle admin;

  private final ProxyMetrics metrics;
  private final EventLog events;
  private final BackendGauges gauges;

  private Dstunnel(Vertx vertx, ProxyConfig config, MeterRegistry registry) {
    this.vertx = vertx;
    this.config = config;
    this.metrics = !config.admin().metrics() ? ProxyMetrics.none()
        : new ProxyMetrics(registry != null ? registry : new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    this.events = new EventLog(metrics, new EventHistory());
    this.pool = new BackendPool(config, events);
    pool.onChange(reason -> vertx.eventBus().publish(BackendAddresses.POOL_CHANGED, reason, Addresses.LOCAL));
    this.sessions = new SessionCounter(config.session().maxSessions(), config.session().maxSessionsPerUser());
    this.budget = new AnswerBudget(config.session().answerBudgetBytes());
    this.rest = new RestSessions(config.session().idleTimeoutMs(), sessions);
    metrics.rest(rest::size, rest::channelClients);
    this.restService = new RestService(pool, rest, config.rest(), config.http().context(), events);
    if (config.cluster().enabled() && vertx.isClustered()) {
      this.cluster = new ClusterNode(vertx, config.cluster(), new ClusterMetrics(metrics.registry()),
          config.session().idleTimeoutMs(), new BackendModes(vertx, pool));
      cluster.metrics().members(() -> cluster.members().size());
      rest.clustered(vertx, pool, config.cluster().secret());
    } else {
      this.cluster = null;
    }
    this.throttle = new LoginThrottle(config.auth().maxFailures(), config.auth().failureWindowMs());
    metrics.sessionsOpen(sessions::open);
    metrics.answerBudget(budget::used, budget::limit);
    this.gauges = new BackendGauges(pool, metrics);
    gauges.follow();
  }

  /** Deploys a proxy for {@code config}. The codecs are registered once per Vert.x instance. */
  public static Future<Dstunnel> start(Vertx vertx, ProxyConfig config) {
    return start(vertx, config, null);
  }

  /** As {@link #start(Vertx, ProxyConfig)}, with the meters on {@code registry} (shared with Vert.x's own). */
  public static Future<Dstunnel> start(Vertx vertx, ProxyConfig config, MeterRegistry registry) {
    Dstunnel d = new Dstunnel(vertx, config, registry);
    return d.deploy().map(d);
  }

  private Future<Void> deploy() {
    WireCodec.register(vertx.eventBus());
    AtomicInteger index = new AtomicInteger();
    BackendConnectorVerticle backends = new BackendConnectorVerticle(pool, metrics);
    ChannelDirectory channels = new ChannelDirectory();
    ClusterVerticle clusterVerticle = cluster == null ? null : new ClusterVerticle(cluster, config.session().instances());
    restService.expireIdle(vertx, config.session().idleTimeoutMs());
    return vertx.deployVerticle(backends)
        .compose(id -> {
          deployments.add(id);
          // dstunnel's own connections that carry a channel broadcast to the other backends.
          return vertx.deployVerticle(new ChannelBroadcaster(pool, backends.connector(), channels,
              config.session().broadcastConnect(), config.pool().broadcastTimeoutMs(), metrics));
        })
        .compose(id -> {
          deployments.add(id);
          return cluster == null ? Future.succeededFuture((String) null)
              : vertx.deployVerticle(clusterVerticle)
                  .compose(cv -> cluster.backendModes().start()
                      .compose(v -> new ClusterChannels(cluster, channels).start()).map(cv));
        })
        .compose(id -> {
          if (id != null) {
            deployments.add(id);
          }
          return vertx.deployVerticle(() -> new SessionVerticle(index.getAndIncrement(), config.session(), config.pool(),
                  pool, events, sessions, budget, backends.connector(),
                  cluster == null ? Replication.NONE : new ClusterReplication(cluster), channels, lanes),
              new DeploymentOptions().setInstances(config.session().instances()));
        })
        .compose(id -> {
          deployments.add(id);
          // The backend modes are read again once the members reach this node: after a merge at
          // start, the cluster's map is settled only then.
          return clusterVerticle == null ? Future.<Void>succeededFuture() : clusterVerticle.reachedByAll()
              .compose(v -> cluster.backendModes().readAgain());
        })
        .compose(v -> {
          // Port 0 must be one random port shared by every instance, not one port each: Vert.x
          // shares a random port among servers that ask for the same negative port (one number per
          // proxy, as several proxies may run on one Vert.x).
          int port = config.http().port() == 0 ? RANDOM_PORT_KEYS.decrementAndGet() : config.http().port();
          return deployTunnels(port, config.http().instances());
        })
        .compose(id -> {
          deployments.add(id);
          // An internal detail (each tunnel listener's requests stay on its session verticle's thread):
          // for whoever tunes http.instances and session.instances, not for every start.
          LOG.debug("{} of {} HTTP instances share an event loop with a session verticle", lanesShared(),
              tunnels.size());
          if (!config.admin().enabled()) {
            return Future.<Void>succeededFuture();
          }
          admin = new AdminVerticle(config, pool, events, metrics, sessions, throttle, cluster, restService, port());
          // The tunnel matters more than the admin API: a port conflict there is logged, not fatal.
          return vertx.deployVerticle(admin).onSuccess(deployments::add).<Void>mapEmpty()
              .recover(err -> {
                LOG.error("admin listener on {}:{} not started: {}", config.admin().host(), config.admin().port(),
                    err.getMessage());
                admin = null;
                return Future.succeededFuture();
              });
        })
        .recover(err -> stop().transform(v -> Future.failedFuture(err)));
  }

  private Future<String> deployTunnels(int port, int instances) {
    return vertx.deployVerticle(() -> {
      TunnelVerticle t = new TunnelVerticle(config, port, metrics, throttle,
          cluster == null ? null : new SessionRouter(cluster), restService, lanes);
      tunnels.add(t);
      return t;
    }, new DeploymentOptions().setInstances(instances)).recover(err -> Future.failedFuture(
        isAddressInUse(err) ? new IllegalStateException("port " + port + " (http.port) is already in use: stop the "
            + "process that holds it or choose another http.port") : err));
  }

  static boolean isAddressInUse(Throwable err) {
    return err instanceof BindException
        || err.getMessage() != null && err.getMessage().contains("Address already in use");
  }

  /** How many HTTP instances share their event loop with a session verticle ({@link SessionLanes}). */
  /** Which session verticle runs on which event loop (for tests). */
  SessionLanes lanes() {
    return lanes;
  }

  public long lanesShared() {
    return tunnels.stream().filter(TunnelVerticle::sharesLane).count();
  }

  /** The ports the tunnel instances listen on: one, shared. */
  public Set<Integer> tunnelPorts() {
    return tunnels.stream().map(TunnelVerticle::actualPort).collect(Collectors.toSet());
  }

  /** The admin port actually bound, or -1 when the admin listener is not running. */
  public int adminPort() {
    return admin == null ? -1 : admin.actualPort();
  }

  /** The tunnel port actually bound. */
  public int port() {
    return tunnels.get(0).actualPort();
  }

  public BackendPool pool() {
    return pool;
  }

  public ProxyMetrics metrics() {
    return metrics;
  }

  /** What every session looks like now (as the admin API shows them). */
  public Future<List<JsonObject>> sessionSnapshots() {
    return SessionSnapshots.gather(vertx, config.session().instances());
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
    warnIfChanged("http", config.http(), next.http());
    warnIfChanged("auth", config.auth(), next.auth());
    warnIfChanged("session", config.session(), next.session());
    warnIfChanged("admin", config.admin(), next.admin());
    warnIfChanged("log", config.log(), next.log());
    pool.update(next);
    gauges.follow();
  }

  private static void warnIfChanged(String section, Object before, Object after) {
    if (!before.equals(after)) {
      LOG.warn("config section {} changed: it applies after a restart", section);
    }
  }

  /**
   * A graceful stop: new sessions are refused (503, and readiness goes down), then the proxy
   * waits until no session is owed an answer (a request in flight, or answer bytes not yet read)
   * or the drain timeout has passed, and stops. A cluster node hands its sessions over instead, then
   * forwards what still comes until requests stop coming. The listener then closes each connection
   * after the answer in progress, so a front never sees a connection close under a request.
   */
  public Future<Void> drain() {
    LOG.info("stopping: new sessions are refused, {} open", sessions.open());
    sessions.drain();
    if (cluster != null) {
      cluster.leave();
    }
    Drain drain = new Drain(vertx, config.session().instances(), config.session().drainTimeoutMs());
    // Leaving a cluster: each session goes to a node that holds its copy, as soon as it is idle.
    Future<Void> drained = cluster != null
        ? drain.untilNone(Addresses::handOver, "to hand over to the other nodes",
            "left the cluster: every session handed over",
            "drain timeout: {} sessions could not be handed over: their copies will adopt them",
            cluster.timings().handOverGraceMs())
        : drain.untilNone(Addresses::sessionsOwed, "owed an answer (a request in flight or answer bytes unread)",
            "drained: no session is owed an answer",
            "drain timeout: closing {} sessions still owed an answer");
    if (cluster != null) {
      // Requests still come (a front sends some until it sees this node not ready): they are
      // forwarded to the sessions' new owners until none has come for a while.
      drained = drained.compose(v -> {
        LOG.info("forwarding what still comes to the sessions' new owners until no request has come for {} ms", QUIET_MS);
        return drain.untilQuiet(metrics::requestsEnded, QUIET_MS);
      });
    }
    // Each connection is closed after the answer to its request in progress, not under it.
    return drained.compose(v -> Future.join(tunnels.stream().map(t -> t.shutdown(drain.remainingMs())).toList())
        .otherwiseEmpty()).compose(v -> stop());
  }

  /** Undeploys the HTTP side first, so no request reaches a session verticle being stopped. */
  public Future<Void> stop() {
    restService.stopExpiring(vertx);
    Future<Void> chain = Future.succeededFuture();
    for (int i = deployments.size() - 1; i >= 0; i--) {
      String id = deployments.get(i);
      chain = chain.compose(v -> vertx.undeploy(id).otherwiseEmpty());
    }
    return chain.onComplete(v -> deployments.clear());
  }
}
