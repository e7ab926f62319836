package io.dstunnel;

import io.dstunnel.config.ConfigException;
import io.dstunnel.config.ConfigWatcher;
import io.dstunnel.config.ProxyConfig;
import io.dstunnel.demo.DemoServerVerticle;
import io.dstunnel.demo.Walkthrough;
import io.vertx.core.Future;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The command line (cli-and-config.md): the proxy with {@code -conf FILE} or the embedded
 * default, {@code server -port N [-name NAME]}, and {@code demo}. Exit status 2 for bad usage
 * or an invalid config, with one line naming the problem.
 */
public final class Main {

  private static final String USAGE = String.join("\n",
      "usage: java -jar dstunnel.jar [-conf FILE]          the proxy (embedded default config without -conf)",
      "       java -jar dstunnel.jar server -port N [-name NAME]   a demo DataSnap-style server",
      "       java -jar dstunnel.jar demo                    the failover walk-through in one process",
      "       java -jar dstunnel.jar hash-password           prints a passwordHash for the password on stdin");

  private Main() {
  }

  public static void main(String[] args) {
    List<String> list = Arrays.asList(args);
    if (!list.isEmpty() && list.get(0).equals("demo")) {
      System.setProperty("dstunnel.events.level", "DEBUG");
      System.setProperty("dstunnel.log.format", "TEXT");
    }
    int status;
    try {
      status = run(list);
    } catch (UsageException e) {
      System.err.println("dstunnel: " + e.getMessage());
      System.err.println(USAGE);
      status = 2;
    }
    if (status >= 0) {
      System.exit(status);
    }
  }

  /** Runs a command; a negative result means it keeps running (a server) until SIGTERM. */
  static int run(List<String> args) {
    if (args.isEmpty()) {
      return proxy(null);
    }
    switch (args.get(0)) {
      case "-conf", "--conf" -> {
        if (args.size() != 2) {
          throw new UsageException("-conf takes exactly one FILE");
        }
        return proxy(Path.of(args.get(1)));
      }
      case "server" -> {
        return server(args.subList(1, args.size()));
      }
      case "demo" -> {
        if (args.size() != 1) {
          throw new UsageException("demo takes no arguments");
        }
        return demo();
      }
      case "hash-password" -> {
        if (args.size() != 1) {
          throw new UsageException("hash-password reads the password from standard input and takes no arguments");
        }
        return hashPassword();
      }
      case "-h", "--help", "help" -> {
        System.out.println(USAGE);
        return 0;
      }
      default -> throw new UsageException("unknown command " + args.get(0));
    }
  }

  private static int proxy(Path file) {
    Logger log = LoggerFactory.getLogger(Main.class);
    if (file != null && !Files.isReadable(file)) {
      System.err.println("dstunnel: cannot read config file " + file);
      return 2;
    }
    ProxyConfig config;
    try {
      config = file == null ? ProxyConfig.fromJson(ProxyConfig.defaultJson()) : ProxyConfig.parse(Files.readString(file));
    } catch (ConfigException e) {
      System.err.println("dstunnel: invalid config " + (file == null ? "(embedded)" : file) + ": " + e.getMessage());
      return 2;
    } catch (java.io.IOException e) {
      System.err.println("dstunnel: cannot read config file " + file + ": " + e.getMessage());
      return 2;
    }
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Vertx vertx = vertx(config, registry);
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
    onTerminate(() -> proxy.drain().compose(v -> vertx.close()));
    return -1;
  }

  /**
   * Vert.x with its Micrometer metrics on the proxy's registry: JVM and backend-connection meters
   * only (the per-request HTTP and event-bus meters cost the hot path; the proxy counts its own).
   */
  private static Vertx vertx(ProxyConfig config, PrometheusMeterRegistry registry) {
    io.vertx.core.VertxOptions options = new io.vertx.core.VertxOptions().setPreferNativeTransport(true);
    if (!config.admin().metrics()) {
      return Vertx.vertx(options);
    }
    MicrometerMetricsOptions metrics = new MicrometerMetricsOptions().setEnabled(true).setJvmMetricsEnabled(true)
        .setDisabledMetricsCategories(java.util.Set.of(MetricsDomain.HTTP_SERVER.toCategory(),
            MetricsDomain.HTTP_CLIENT.toCategory(), MetricsDomain.EVENT_BUS.toCategory(), MetricsDomain.NET_SERVER.toCategory(),
            MetricsDomain.DATAGRAM_SOCKET.toCategory(), MetricsDomain.NAMED_POOLS.toCategory()));
    return Vertx.builder().with(options.setMetricsOptions(metrics))
        .withMetrics(new MicrometerMetricsFactory(registry)).build();
  }

  private static int server(List<String> args) {
    int port = -1;
    String name = null;
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      if (i + 1 >= args.size()) {
        throw new UsageException(a + " needs a value");
      }
      switch (a) {
        case "-port" -> {
          try {
            port = Integer.parseInt(args.get(++i));
          } catch (NumberFormatException e) {
            throw new UsageException("-port must be a number");
          }
        }
        case "-name" -> name = args.get(++i);
        default -> throw new UsageException("unknown option " + a);
      }
    }
    if (port < 0 || port > 65535) {
      throw new UsageException("server needs -port N (0 to 65535)");
    }
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
    onTerminate(vertx::close);
    return -1;
  }

  /** Reads a password (from the console without echo, else one line of stdin) and prints its hash. */
  private static int hashPassword() {
    String password;
    java.io.Console console = System.console();
    if (console != null) {
      char[] typed = console.readPassword("password: ");
      password = typed == null ? null : new String(typed);
    } else {
      try {
        password = new java.io.BufferedReader(new java.io.InputStreamReader(System.in,
            java.nio.charset.StandardCharsets.UTF_8)).readLine();
      } catch (java.io.IOException e) {
        password = null;
      }
    }
    if (password == null || password.isEmpty()) {
      System.err.println("dstunnel: no password given on standard input");
      return 2;
    }
    System.out.println(io.dstunnel.auth.Passwords.hash(password));
    return 0;
  }

  private static int demo() {
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

  /** On SIGTERM (and SIGINT), run {@code stop} and exit 0. */
  @SuppressWarnings("restriction")
  private static void onTerminate(java.util.function.Supplier<Future<Void>> stop) {
    sun.misc.SignalHandler handler = sig -> {
      try {
        stop.get().await(1, TimeUnit.HOURS);
      } catch (Exception ignored) {
        // exiting anyway
      }
      Runtime.getRuntime().halt(0);
    };
    sun.misc.Signal.handle(new sun.misc.Signal("TERM"), handler);
    sun.misc.Signal.handle(new sun.misc.Signal("INT"), handler);
  }

  /** Blocks the main thread (never an event loop) until {@code f} completes. */
  private static <T> T await(Future<T> f) {
    CompletableFuture<T> cf = f.toCompletionStage().toCompletableFuture();
    try {
      return cf.get(120, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException(e.getCause());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static final class UsageException extends RuntimeException {
    UsageException(String message) {
      super(message);
    }
  }
}
