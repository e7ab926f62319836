package io.dstunnel.config;

import io.dstunnel.framing.Framing;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The whole proxy configuration, parsed and validated once at start-up (cli-and-config.md).
 * Every key but {@code backends} has a default; see the README's config reference.
 */
public record ProxyConfig(
    HttpConfig http,
    List<BackendConfig> backends,
    AuthConfig auth,
    SessionConfig session,
    PoolConfig pool,
    HealthConfig health,
    AdminConfig admin) {

  private static final Set<String> TOP_KEYS = Set.of("http", "backends", "auth", "session", "pool", "health",
      "admin");

  /** The embedded default: port 8080, primary 127.0.0.1:211, standby 127.0.0.1:213, no auth. */
  public static JsonObject defaultJson() {
    return new JsonObject()
        .put("http", new JsonObject().put("port", HttpConfig.DEFAULT_PORT))
        .put("backends", new JsonArray()
            .add(new JsonObject().put("name", "server-211").put("host", "127.0.0.1").put("port", 211).put("priority", 0))
            .add(new JsonObject().put("name", "server-213").put("host", "127.0.0.1").put("port", 213).put("priority", 1)));
  }

  /** Parses the config text; a syntax error is reported as a {@link ConfigException}. */
  public static ProxyConfig parse(String text) {
    JsonObject json;
    try {
      json = new JsonObject(text);
    } catch (DecodeException | ClassCastException e) {
      String detail = e.getMessage() == null ? "" : e.getMessage().split("\n")[0];
      throw new ConfigException("(file)", "not a valid JSON object: " + detail);
    }
    return fromJson(json);
  }

  /** Validates and converts a JSON config. */
  public static ProxyConfig fromJson(JsonObject json) {
    JsonSection top = JsonSection.of("", json, TOP_KEYS);
    HttpConfig http = HttpConfig.fromJson(top.raw("http"));
    HealthConfig health = HealthConfig.fromJson("health", top.raw("health"), HealthConfig.DEFAULTS);
    List<BackendConfig> backends = backends(top, health);
    AuthConfig auth = AuthConfig.fromJson(top.raw("auth"));
    SessionConfig session = SessionConfig.fromJson(top.raw("session"));
    PoolConfig pool = PoolConfig.fromJson(top.raw("pool"));
    AdminConfig admin = AdminConfig.fromJson(top.raw("admin"));
    return new ProxyConfig(http, backends, auth, session, pool, health, admin);
  }

  private static List<BackendConfig> backends(JsonSection top, HealthConfig health) {
    JsonArray array = top.array("backends");
    if (array == null || array.isEmpty()) {
      throw new ConfigException("backends", "at least one backend is required");
    }
    List<BackendConfig> list = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (int i = 0; i < array.size(); i++) {
      BackendConfig b = BackendConfig.fromJson("backends[" + i + "]", array.getValue(i), health);
      if (!names.add(b.name())) {
        throw new ConfigException("backends[" + i + "].name", "duplicate backend name \"" + b.name() + "\"");
      }
      list.add(b);
    }
    return List.copyOf(list);
  }

  /**
   * The tunnel listener and its limits.
   *
   * @param tls PEM certificate and key for HTTPS, or null for plain HTTP
   * @param idleTimeoutMs a connection with no request under way for this long is closed
   * @param requestTimeoutMs a request whose body has not fully arrived this long after its headers is cut off (408)
   */
  public record HttpConfig(String host, int port, int instances, String context, int writeLimitBytes,
                           long readTimeoutMs, TlsConfig tls, long idleTimeoutMs, long requestTimeoutMs,
                           int maxInitialLineLength, int maxHeaderSize) {
    public static final String DEFAULT_HOST = "0.0.0.0";
    public static final int DEFAULT_PORT = 8080;
    public static final String DEFAULT_CONTEXT = "datasnap";
    public static final int DEFAULT_WRITE_LIMIT = 1 << 20;
    public static final long DEFAULT_IDLE_TIMEOUT = 120_000;
    public static final long DEFAULT_REQUEST_TIMEOUT = 30_000;
    public static final int DEFAULT_MAX_INITIAL_LINE = 4096;
    public static final int DEFAULT_MAX_HEADER_SIZE = 8192;

    static HttpConfig fromJson(Object value) {
      JsonSection s = JsonSection.of("http", value, Set.of("host", "port", "instances", "context", "writeLimitBytes",
          "readTimeoutMs", "tls", "idleTimeoutMs", "requestTimeoutMs", "maxInitialLineLength", "maxHeaderSize"));
      String context = s.string("context", DEFAULT_CONTEXT);
      if (!context.matches("[A-Za-z0-9._~-]+")) {
        throw new ConfigException("http.context", "must be one path segment of letters, digits, '.', '_', '~' or '-'");
      }
      return new HttpConfig(
          s.nonEmptyString("host", DEFAULT_HOST),
          s.integer("port", DEFAULT_PORT, 0, 65535),
          s.integer("instances", Runtime.getRuntime().availableProcessors(), 1, 256),
          context,
          s.integer("writeLimitBytes", DEFAULT_WRITE_LIMIT, 1, Integer.MAX_VALUE - 1),
          s.longValue("readTimeoutMs", 0, 0, 86_400_000L),
          s.has("tls") ? TlsConfig.fromJson(s.raw("tls")) : null,
          s.longValue("idleTimeoutMs", DEFAULT_IDLE_TIMEOUT, 0, 86_400_000L),
          s.longValue("requestTimeoutMs", DEFAULT_REQUEST_TIMEOUT, 0, 86_400_000L),
          s.integer("maxInitialLineLength", DEFAULT_MAX_INITIAL_LINE, 256, 1 << 20),
          s.integer("maxHeaderSize", DEFAULT_MAX_HEADER_SIZE, 1024, 1 << 20));
    }
  }

  /** HTTPS on the tunnel listener: a PEM certificate (chain) and its PEM private key. */
  public record TlsConfig(String certPath, String keyPath) {
    static TlsConfig fromJson(Object value) {
      JsonSection s = JsonSection.of("http.tls", value, Set.of("certPath", "keyPath"));
      String cert = s.nonEmptyString("certPath", null);
      String key = s.nonEmptyString("keyPath", null);
      if (cert == null || key == null) {
        throw new ConfigException("http.tls", "needs certPath and keyPath (PEM files)");
      }
      for (String[] f : new String[][] {{"certPath", cert}, {"keyPath", key}}) {
        if (!java.nio.file.Files.isReadable(java.nio.file.Path.of(f[1]))) {
          throw new ConfigException("http.tls." + f[0], "cannot read " + f[1]);
        }
      }
      return new TlsConfig(cert, key);
    }
  }

  /**
   * A DataSnap-style TCP server the proxy may send sessions to.
   *
   * @param weight share of new sessions relative to the other backends of its priority ("weighted")
   * @param maxSessions sessions it may hold at once, 0 for no limit
   * @param mode "active", or an operator's "drain", "migrate" or "disable"
   * @param health its health check: the global {@code health} section with this backend's overrides
   */
  public record BackendConfig(String name, String host, int port, int priority, int weight, int maxSessions,
                              BackendMode mode, HealthConfig health) {
    static BackendConfig fromJson(String path, Object value, HealthConfig defaults) {
      JsonSection s = JsonSection.of(path, value,
          Set.of("name", "host", "port", "priority", "weight", "maxSessions", "mode", "health"));
      if (!s.has("port")) {
        throw new ConfigException(path + ".port", "is required");
      }
      int port = s.integer("port", 0, 1, 65535);
      String host = s.nonEmptyString("host", "127.0.0.1");
      BackendMode mode;
      try {
        mode = BackendMode.parse(s.string("mode", "active"));
      } catch (IllegalArgumentException e) {
        throw new ConfigException(path + ".mode", e.getMessage());
      }
      return new BackendConfig(s.nonEmptyString("name", host + ":" + port), host, port,
          s.integer("priority", 0, 0, 1000), s.integer("weight", 1, 1, 1000), s.integer("maxSessions", 0, 0, 10_000_000),
          mode, HealthConfig.fromJson(path + ".health", s.raw("health"), defaults));
    }

    /** Same server (host and port): a reload may change everything else in place. */
    public boolean sameServer(BackendConfig other) {
      return host.equals(other.host) && port == other.port;
    }
  }

  /**
   * The admin listener: metrics, health probes, the admin API and the status page, on its own
   * port, protected by the same users (the probes excepted).
   */
  public record AdminConfig(boolean enabled, String host, int port, boolean metrics) {
    public static final int DEFAULT_PORT = 8081;

    static AdminConfig fromJson(Object value) {
      JsonSection s = JsonSection.of("admin", value, Set.of("enabled", "host", "port", "metrics"));
      return new AdminConfig(s.bool("enabled", true), s.nonEmptyString("host", "127.0.0.1"),
          s.integer("port", DEFAULT_PORT, 0, 65535), s.bool("metrics", true));
    }
  }

  /**
   * Users allowed to open sessions; no users means no authentication. After
   * {@code maxFailures} failed logins from one client address within {@code failureWindowMs},
   * that address gets 429 until the window has passed.
   */
  public record AuthConfig(List<UserConfig> users, int maxFailures, long failureWindowMs) {
    static AuthConfig fromJson(Object value) {
      JsonSection s = JsonSection.of("auth", value, Set.of("users", "maxFailures", "failureWindowMs"));
      JsonArray array = s.array("users");
      List<UserConfig> users = new ArrayList<>();
      Set<String> names = new HashSet<>();
      if (array != null) {
        for (int i = 0; i < array.size(); i++) {
          UserConfig u = UserConfig.fromJson("auth.users[" + i + "]", array.getValue(i));
          if (!names.add(u.name())) {
            throw new ConfigException("auth.users[" + i + "].name", "duplicate user \"" + u.name() + "\"");
          }
          users.add(u);
        }
      }
      return new AuthConfig(List.copyOf(users), s.integer("maxFailures", 10, 1, 1_000_000),
          s.longValue("failureWindowMs", 60_000, 100, 86_400_000L));
    }

    public boolean enabled() {
      return !users.isEmpty();
    }
  }

  /** One user: a plain {@code password} or a {@code passwordHash} in PHC form ({@code $pbkdf2$...}). */
  public record UserConfig(String name, String password, String passwordHash) {
    static UserConfig fromJson(String path, Object value) {
      JsonSection s = JsonSection.of(path, value, Set.of("name", "password", "passwordHash"));
      String name = s.nonEmptyString("name", null);
      if (name == null) {
        throw new ConfigException(path + ".name", "is required");
      }
      if (name.indexOf(':') >= 0) {
        throw new ConfigException(path + ".name", "must not contain ':' (HTTP Basic cannot carry it)");
      }
      String password = s.string("password", null);
      String hash = s.nonEmptyString("passwordHash", null);
      if ((password == null) == (hash == null)) {
        throw new ConfigException(path, "give exactly one of password and passwordHash");
      }
      if (hash != null && !hash.startsWith("$")) {
        throw new ConfigException(path + ".passwordHash", "must be a PHC string such as $pbkdf2$it=...$salt$hash");
      }
      return new UserConfig(name, password, hash);
    }

    @Override
    public String toString() {
      return "UserConfig[name=" + name + "]";
    }
  }

  /** Per-session behaviour: expiry, replay and answer buffering. */
  public record SessionConfig(long idleTimeoutMs, int replayLimitBytes, int maxFailovers,
                              int heldAnswerLimitBytes, int pendingReadLimitBytes, Framing framing,
                              int instances, int maxSessions, int maxSessionsPerUser, long drainTimeoutMs) {
    public static final long DEFAULT_IDLE_TIMEOUT = 600_000;
    public static final int DEFAULT_REPLAY_LIMIT = 4 << 20;
    public static final int DEFAULT_MAX_FAILOVERS = 100;
    public static final int DEFAULT_HELD_ANSWER_LIMIT = 1 << 20;
    public static final int DEFAULT_PENDING_READ_LIMIT = 1 << 20;
    public static final int DEFAULT_MAX_SESSIONS = 100_000;
    public static final int DEFAULT_MAX_SESSIONS_PER_USER = 10_000;
    public static final long DEFAULT_DRAIN_TIMEOUT = 10_000;

    static SessionConfig fromJson(Object value) {
      JsonSection s = JsonSection.of("session", value, Set.of("idleTimeoutMs", "replayLimitBytes",
          "maxFailovers", "heldAnswerLimitBytes", "pendingReadLimitBytes", "framing", "instances", "maxSessions", "maxSessionsPerUser", "drainTimeoutMs"));
      Framing framing;
      try {
        framing = Framing.parse(s.string("framing", "dbx"));
      } catch (IllegalArgumentException e) {
        throw new ConfigException("session.framing", e.getMessage());
      }
      return new SessionConfig(
          s.longValue("idleTimeoutMs", DEFAULT_IDLE_TIMEOUT, 100, 7L * 86_400_000L),
          s.integer("replayLimitBytes", DEFAULT_REPLAY_LIMIT, 0, Integer.MAX_VALUE - 1),
          s.integer("maxFailovers", DEFAULT_MAX_FAILOVERS, 0, 1_000_000),
          s.integer("heldAnswerLimitBytes", DEFAULT_HELD_ANSWER_LIMIT, 0, 256 << 20),
          s.integer("pendingReadLimitBytes", DEFAULT_PENDING_READ_LIMIT, 1, 256 << 20),
          framing,
          s.integer("instances", Runtime.getRuntime().availableProcessors(), 1, 256),
          s.integer("maxSessions", DEFAULT_MAX_SESSIONS, 1, 10_000_000),
          s.integer("maxSessionsPerUser", DEFAULT_MAX_SESSIONS_PER_USER, 1, 10_000_000),
          s.longValue("drainTimeoutMs", DEFAULT_DRAIN_TIMEOUT, 0, 3_600_000L));
    }
  }

  /**
   * How sessions reach backends: the balancing strategy among the preferred backends, slow start,
   * failback, the answer timeout that catches hung backends, and the connect timeout.
   */
  public record PoolConfig(int connectTimeoutMs, Strategy strategy, long slowStartMs, Failback failback,
                           int migrateRatePerSecond, long answerTimeoutMs) {
    public static final int DEFAULT_CONNECT_TIMEOUT = 3000;
    public static final int DEFAULT_MIGRATE_RATE = 50;

    /** How new sessions are spread over the healthy backends of the preferred priority. */
    public enum Strategy {
      ROUND_ROBIN("round-robin"), LEAST_SESSIONS("least-sessions"), WEIGHTED("weighted"),
      POWER_OF_TWO_CHOICES("power-of-two-choices");

      private final String key;

      Strategy(String key) {
        this.key = key;
      }

      public String key() {
        return key;
      }
    }

    /** What happens when a preferred backend recovers. */
    public enum Failback {
      /** New sessions go to it again; existing sessions stay where they are. */
      NEW_SESSIONS("new-sessions"),
      /** As NEW_SESSIONS, and idle sessions move back to it by replay, rate-limited. */
      MIGRATE_IDLE("migrate-idle"),
      /** It takes no new session until an operator enables it (a reload or the admin API). */
      NONE("none");

      private final String key;

      Failback(String key) {
        this.key = key;
      }

      public String key() {
        return key;
      }
    }

    static PoolConfig fromJson(Object value) {
      JsonSection s = JsonSection.of("pool", value, Set.of("connectTimeoutMs", "strategy", "slowStartMs", "failback",
          "migrateRatePerSecond", "answerTimeoutMs"));
      return new PoolConfig(
          s.integer("connectTimeoutMs", DEFAULT_CONNECT_TIMEOUT, 1, 600_000),
          s.oneOf("strategy", Strategy.values(), Strategy::key, Strategy.ROUND_ROBIN),
          s.longValue("slowStartMs", 0, 0, 3_600_000L),
          s.oneOf("failback", Failback.values(), Failback::key, Failback.NEW_SESSIONS),
          s.integer("migrateRatePerSecond", DEFAULT_MIGRATE_RATE, 1, 1_000_000),
          s.longValue("answerTimeoutMs", 0, 0, 86_400_000L));
    }
  }

  /**
   * A health check: every {@code intervalMs}, a TCP connect ("tcp") or a DBX filter query that
   * must be answered {@code 06 00 00 00 00} ("dbx") within {@code timeoutMs}; {@code rise}
   * successes in a row mark a backend up, {@code fall} failures in a row mark it down. Live
   * traffic counts too: a connect failure or a reset is a failure, a connect a success.
   */
  public record HealthConfig(long intervalMs, int timeoutMs, int rise, int fall, CheckKind kind) {
    public static final HealthConfig DEFAULTS = new HealthConfig(1000, 1000, 2, 2, CheckKind.TCP);

    /** What a check does. */
    public enum CheckKind {
      TCP("tcp"), DBX("dbx");

      private final String key;

      CheckKind(String key) {
        this.key = key;
      }

      public String key() {
        return key;
      }
    }

    static HealthConfig fromJson(String path, Object value, HealthConfig d) {
      JsonSection s = JsonSection.of(path, value, Set.of("intervalMs", "timeoutMs", "rise", "fall", "kind"));
      return new HealthConfig(
          s.longValue("intervalMs", d.intervalMs(), 10, 3_600_000L),
          s.integer("timeoutMs", d.timeoutMs(), 1, 600_000),
          s.integer("rise", d.rise(), 1, 100),
          s.integer("fall", d.fall(), 1, 100),
          s.oneOf("kind", CheckKind.values(), CheckKind::key, d.kind()));
    }
  }
}
