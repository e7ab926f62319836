// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel;

import io.dstunnel.auth.Passwords;
import io.dstunnel.cluster.ClusterSetup;
import io.dstunnel.config.ConfigException;
import io.dstunnel.config.ConfigWatcher;
import io.dstunnel.config.ProxyConfig;
import io.dstunnel.demo.DemoRestVerticle;
import io.dstunnel.demo.DemoServerVerticle;
import io.dstunnel.demo.Walkthrough;
import io.dstunnel.logging.LogFormat;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts what the command line asked for: the proxy (with its Vert.x, metrics, config watcher and
 * SIGTERM drain), a demo server, the walk-through, or a password hash. Each returns an exit
 * status, or -1 for a server that runs until SIGTERM ({@link Termination}).
 */
final class Launcher {

  private Launcher() {
  }

  /**
   * Checks the config in {@code file} (the embedded default when null) as start-up would, with the
   * environment's values, and starts nothing ({@code nginx -t}, {@code haproxy -c}): 0 and one line
   * saying it is valid, or 2 and the line start-up would print.
   */
  static int check(Path file) {
    if (load(file) == null) {
      return 2;
    }
    System.out.println("dstunnel: config " + (file == null ? "(embedded)" : file) + " is valid");
    return 0;
  }

  /** The config in {@code file} (the embedded default when null), or null after printing why not. */
  private static ProxyConfig load(Path file) {
    try {
      return file == null ? ProxyConfig.fromJson(ProxyConfig.defaultJson()) : ProxyConfig.parse(Files.readString(file), System.getenv());
    } catch (ConfigException e) {
      System.err.println("dstunnel: invalid config " + (file == null ? "(embedded)" : file) + ": " + e.getMessage());
      return null;
    } catch (IOException e) {
      System.err.println("dstunnel: cannot read config file " + file + ": " + ioReason(e));
      return null;
    }
  }

  /** The proxy with the config in {@code file} (the embedded default when null); runs until SIGTERM. */
  static int proxy(Path file) {
    ProxyConfig config = load(file);
    if (config == null) {
      return 2;
    }
    // log.format (or DSTUNNEL_LOG_FORMAT) from here on, unless -Ddstunnel.log.format chose.
    LogFormat.use(config.log().format());
    Logger log = LoggerFactory.getLogger(Launcher.class);
    // Only an operator's own file can hold a plain password worth a warning (not the demo's).
    config.auth().users().stream().filter(u -> u.password() != null).forEach(u -> log.warn(
        "user {} has a plain password in the config: give a passwordHash instead (java -jar dstunnel.jar hash-password)",
        u.name()));
    PrometheusMeterRegistry registry = registry();
    Vertx vertx;
    try {
      vertx = await(vertx(config, registry));
    } catch (RuntimeException e) {
      System.err.println("dstunnel: cannot join the cluster: " + e.getMessage());
      return 1;
    }
    ConfigWatcher watcher = file == null ? null : new ConfigWatcher(vertx, file, ConfigWatcher.DEFAULT_SCAN_MS);
    Dstunnel proxy;
    try {
      proxy = await(Dstunnel.start(vertx, config, registry));
    } catch (RuntimeException e) {
      System.err.println("dstunnel: cannot start: " + e.getMessage());
      vertx.close();
      return 1;
    }
    if (watcher != null) {
      // Read once through the watcher so that only later changes count as changes.
      watcher.current().onComplete(ar -> watcher.listen(proxy::reload));
    }
    log.info("network transport: {}", vertx.isNativeTransportEnabled() ? "native epoll"
        : "NIO (" + vertx.unavailableNativeTransportCause() + ")");
    log.info("dstunnel listening on {}", proxy.port());
    if (proxy.adminPort() > 0) {
      log.info("admin listening on {}", proxy.adminPort());
    }
    Termination.onTerminate(() -> proxy.drain().compose(v -> vertx.close()));
    return -1;
  }

  /**
   * The Prometheus registry the proxy's meters and Vert.x's share. Vert.x's Micrometer metrics
   * register the gauge {@code vertx.net.client.active.connections} again for each connection a client
   * opens (a backend connection, a health check, a cluster peer), which Micrometer 1.14 and later
   * reports as a warning ("This Gauge has been already registered", vertx-micrometer-metrics#259):
   * that one gauge is not kept; the connections' byte and error counters are.
   * {@code dstunnel_sessions_open} and {@code dstunnel_backend_up} say what it would.
   */
  static PrometheusMeterRegistry registry() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.config().meterFilter(MeterFilter.deny(id -> id.getName().equals("vertx.net.client.active.connections")));
    return registry;
  }

  /**
   * Vert.x with its Micrometer metrics on the proxy's registry: JVM and backend-connection meters
   * only (the per-request HTTP and event-bus meters cost the hot path; the proxy counts its own).
   */
  private static Future<Vertx> vertx(ProxyConfig config, PrometheusMeterRegistry registry) {
    VertxOptions options = new VertxOptions().setPreferNativeTransport(true).setEventLoopPoolSize(eventLoops(config));
    VertxBuilder builder = Vertx.builder();
    if (config.admin().metrics()) {
      MicrometerMetricsOptions metrics = new MicrometerMetricsOptions().setEnabled(true).setJvmMetricsEnabled(true)
          .setDisabledMetricsCategories(Set.of(MetricsDomain.HTTP_SERVER.toCategory(),
              MetricsDomain.HTTP_CLIENT.toCategory(), MetricsDomain.EVENT_BUS.toCategory(),
              MetricsDomain.NET_SERVER.toCategory(), MetricsDomain.DATAGRAM_SOCKET.toCategory(),
              MetricsDomain.NAMED_POOLS.toCategory()));
      options.setMetricsOptions(metrics);
      builder.withMetrics(new MicrometerMetricsFactory(registry));
    }
    if (config.cluster().enabled()) {
      return ClusterSetup.vertx(builder, options, config.cluster());
    }
    return Future.succeededFuture(builder.with(options).build());
  }

  /**
   * One event loop per lane (an HTTP instance and a session verticle instance on the same thread,
   * see {@link io.dstunnel.session.SessionLanes}), not Vert.x's default of two per core.
   */
  static int eventLoops(ProxyConfig config) {
    return Math.max(config.http().instances(), config.session().instances());
  }

  /** Reads a password (from the console without echo, else one line of stdin) and prints its hash. */
  static int hashPassword() {
    String password;
    Console console = System.console();
    if (console != null) {
      char[] typed = console.readPassword("password: ");
      password = typed == null ? null : new String(typed);
    } else {
      try {
        password = new BufferedReader(new InputStreamReader(System.in,
            StandardCharsets.UTF_8)).readLine();
      } catch (IOException e) {
        password = null;
      }
    }
    if (password == null || password.isEmpty()) {
      System.err.println("dstunnel: no password given on standard input");
      return 2;
    }
    System.out.println(Passwords.hash(password));
    return 0;
  }

  static int demo() {
    Vertx vertx = Vertx.vertx();
    try {
      await(new Walkthrough(vertx).run());
      return 0;
    } catch (RuntimeException e) {
      LoggerFactory.getLogger("dstunnel.demo").error("the walk-through failed: {}", e.getMessage());
      return 1;
    } finally {
      try {
        vertx.close().await(10, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // exiting anyway
      }
    }
  }

  /** Blocks the main thread (never an event loop) until {@code f} completes. */
  private static <T> T await(Future<T> f) {
    CompletableFuture<T> cf = f.toCompletionStage().toCompletableFuture();
    try {
      return cf.get(120, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(e.getCause());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** A demo DataSnap-style server on {@code port} (and its REST side on {@code http}, if not -1); runs until SIGTERM. */
  static int server(int port, String name, int http) {
    Vertx vertx = Vertx.vertx();
    DemoServerVerticle server = new DemoServerVerticle("0.0.0.0", port, name);
    try {
      await(vertx.deployVerticle(server));
    } catch (RuntimeException e) {
      System.err.println("dstunnel: cannot start the demo server on port " + port + ": " + e.getMessage());
      vertx.close();
      return 1;
    }
    LoggerFactory.getLogger(DemoServerVerticle.class).info("server listening on {}", server.actualPort());
    if (http >= 0) {
      DemoRestVerticle rest = new DemoRestVerticle("0.0.0.0", http, server.name());
      try {
        await(vertx.deployVerticle(rest));
      } catch (RuntimeException e) {
        System.err.println("dstunnel: cannot start the demo server's REST side on port " + http + ": " + e.getMessage());
        vertx.close();
        return 1;
      }
      LoggerFactory.getLogger(DemoRestVerticle.class).info("rest listening on {}", rest.actualPort());
    }
    Termination.onTerminate(vertx::close);
    return -1;
  }

  /** Why a file could not be read, in words (Java's own message is often just the path). */
  private static String ioReason(IOException e) {
    if (e instanceof NoSuchFileException) {
      return "no such file";
    }
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    return e.getMessage() == null ? e.toString() : e.getMessage();
  }
}
