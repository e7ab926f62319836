// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.config;

import io.vertx.core.json.JsonArray;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Cluster mode (cluster.md): several nodes form one proxy over the clustered event bus on
 * Infinispan over JGroups, both keyed by {@code secret}. Disabled (the default) means a single
 * node, exactly as without the section.
 *
 * @param host the address this node binds and advertises (member port and event bus)
 * @param members {@code host:port} of members to join over TCP
 * @param kubernetesServiceDns a headless Service's DNS name to discover members by, or null
 * @param suspectAfterMs a node that leaves a forwarded request unacknowledged this long is taken for dead
 * @param backups how many other nodes keep a synchronous copy of each session
 * @param publicHost the address the other nodes reach this one at, when it is not {@code host} (NAT,
 *     port forwarding, a relay in front of the node)
 * @param publicPort the member port the others reach, when it is not {@code port}
 * @param publicEventBusPort the event-bus port the others reach, when it is not {@code eventBusPort}
 * @param secret the cluster's shared key (at least {@value #MIN_SECRET_LENGTH} characters), or null on a
 *     trusted network: only a node holding it is a member; never logged ({@link #toString} leaves it out)
 * @param trustedNetwork run without a secret: only cluster nodes can reach the cluster ports
 */
public record ClusterConfig(boolean enabled, String name, String host, int port, int eventBusPort,
                            List<String> members, String kubernetesServiceDns, long suspectAfterMs, int backups,
                            String publicHost, int publicPort, int publicEventBusPort, String secret,
                            boolean trustedNetwork) {
  public static final String DEFAULT_NAME = "dstunnel";
  public static final String DEFAULT_HOST = "127.0.0.1";
  public static final int DEFAULT_PORT = 5701;
  public static final long DEFAULT_SUSPECT_AFTER = 2000;
  public static final int DEFAULT_BACKUPS = 1;
  /** The fewest different characters a {@code cluster.secret} may have: random keys have many more. */
  public static final int MIN_SECRET_DISTINCT = 10;

  /** The shortest {@code cluster.secret}: 32 random characters ({@code openssl rand -base64 32} gives 44). */
  public static final int MIN_SECRET_LENGTH = 32;

  /** Single-node mode. */
  public static final ClusterConfig DISABLED = new ClusterConfig(false, DEFAULT_NAME, DEFAULT_HOST, DEFAULT_PORT, 0,
      List.of(), null, DEFAULT_SUSPECT_AFTER, DEFAULT_BACKUPS, DEFAULT_HOST, DEFAULT_PORT, 0, null, false);

  static ClusterConfig fromJson(Object value) {
    if (value == null) {
      return DISABLED;
    }
    JsonSection s = JsonSection.of("cluster", value, Set.of("enabled", "name", "host", "port", "eventBusPort",
        "members", "kubernetes", "suspectAfterMs", "backups", "publicHost", "publicPort", "publicEventBusPort", "secret", "trustedNetwork"));
    List<String> members = new ArrayList<>();
    JsonArray array = s.array("members");
    if (array != null) {
      for (int i = 0; i < array.size(); i++) {
        Object m = array.getValue(i);
        if (!(m instanceof String member) || !member.matches("[^:\\s]+:\\d{1,5}")) {
          throw new ConfigException("cluster.members[" + i + "]", "must be a \"host:port\" string");
        }
        members.add(member);
      }
    }
    String dns = null;
    if (s.has("kubernetes")) {
      JsonSection k = JsonSection.of("cluster.kubernetes", s.raw("kubernetes"), Set.of("serviceDns"));
      dns = k.nonEmptyString("serviceDns", null);
    }
    boolean enabled = s.bool("enabled", false);
    if (enabled && members.isEmpty() && dns == null) {
      throw new ConfigException("cluster.members", "give the members to join, or cluster.kubernetes.serviceDns");
    }
    String host = s.nonEmptyString("host", DEFAULT_HOST);
    int port = s.integer("port", DEFAULT_PORT, 0, 65535);
    int eventBusPort = s.integer("eventBusPort", 0, 0, 65535);
    String secret = s.string("secret", null);
    if (secret != null) {
      secret = secret.strip();
      checkSecret(secret);
    }
    boolean trustedNetwork = s.bool("trustedNetwork", false);
    if (enabled && secret == null && !trustedNetwork) {
      throw new ConfigException("cluster.secret", "a cluster node needs the cluster's key (cluster.secret or "
          + "DSTUNNEL_CLUSTER_SECRET, at least " + MIN_SECRET_LENGTH + " random characters), or "
          + "cluster.trustedNetwork: true on a network where only cluster nodes reach the cluster ports");
    }
    return new ClusterConfig(enabled, s.nonEmptyString("name", DEFAULT_NAME), host, port, eventBusPort,
        List.copyOf(members), dns, s.longValue("suspectAfterMs", DEFAULT_SUSPECT_AFTER, 100, 600_000L),
        s.integer("backups", DEFAULT_BACKUPS, 0, 6), s.nonEmptyString("publicHost", host),
        s.integer("publicPort", port, 0, 65535), s.integer("publicEventBusPort", eventBusPort, 0, 65535),
        secret, trustedNetwork);
  }

  /**
   * Refuses a key that is short, that holds anything but printable ASCII (the environment is read
   * in the locale's charset: under a C locale every other character becomes the same U+FFFD, and
   * two different keys the same one), or that repeats a few characters. The messages say why,
   * never the value: they are printed.
   */
  private static void checkSecret(String secret) {
    if (secret.length() < MIN_SECRET_LENGTH) {
      throw new ConfigException("cluster.secret", "must be at least " + MIN_SECRET_LENGTH
          + " characters (random ones: openssl rand -base64 32), got " + secret.length());
    }
    for (int i = 0; i < secret.length(); i++) {
      char ch = secret.charAt(i);
      if (ch < 0x21 || ch > 0x7e) {
        throw new ConfigException("cluster.secret", "must be printable ASCII without spaces (openssl rand "
            + "-base64 32), got another character at position " + (i + 1));
      }
    }
    if (secret.chars().distinct().count() < MIN_SECRET_DISTINCT) {
      throw new ConfigException("cluster.secret", "must be random (openssl rand -base64 32), got only "
          + secret.chars().distinct().count() + " different characters");
    }
  }

  /** The config as a line, the secret left out (whether there is one is said). */
  @Override
  public String toString() {
    return "ClusterConfig[enabled=" + enabled + ", name=" + name + ", host=" + host + ", port=" + port
        + ", eventBusPort=" + eventBusPort + ", members=" + members + ", kubernetesServiceDns=" + kubernetesServiceDns
        + ", suspectAfterMs=" + suspectAfterMs + ", backups=" + backups + ", publicHost=" + publicHost
        + ", publicPort=" + publicPort + ", publicEventBusPort=" + publicEventBusPort
        + ", secret=" + (secret == null ? "none" : "(set)") + ", trustedNetwork=" + trustedNetwork + "]";
  }
}
