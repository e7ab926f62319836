// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dstunnel.framing.Framing;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ProxyConfigTest {

  private static final String BACKENDS = "\"backends\":[{\"name\":\"a\",\"port\":211}]";

  @Test
  void embeddedDefaultIsTheSeedSetup() {
    ProxyConfig c = ProxyConfig.fromJson(ProxyConfig.defaultJson());
    assertThat(c.http().port()).isEqualTo(8080);
    assertThat(c.backends()).extracting(BackendConfig::port).containsExactly(211, 213);
    assertThat(c.backends()).extracting(BackendConfig::priority).containsExactly(0, 1);
    assertThat(c.auth().enabled()).isFalse();
    assertThat(c.session().replayLimitBytes()).isEqualTo(4 << 20);
    assertThat(c.http().writeLimitBytes()).isEqualTo(1 << 20);
    assertThat(c.session().framing()).isEqualTo(Framing.DBX);
    assertThat(c.health().intervalMs()).isLessThanOrEqualTo(2000);
  }

  @Test
  void theShippedExampleConfigIsValid() throws Exception {
    String text = java.nio.file.Files.readString(java.nio.file.Path.of("conf/dstunnel.json"));
    ProxyConfig c = ProxyConfig.parse(text);
    assertThat(c.auth().users()).extracting(UserConfig::name).containsExactly("admin");
    assertThat(c.backends()).hasSize(2);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "{\"http\":{\"port\":70000}," + BACKENDS + "}|http.port: must be an integer from 0 to 65535, got 70000",
      "{\"http\":{\"port\":\"80\"}," + BACKENDS + "}|http.port: must be an integer",
      "{\"http\":{\"prot\":80}," + BACKENDS + "}|http.prot: unknown key",
      "{\"htp\":{}," + BACKENDS + "}|htp: unknown key",
      "{\"backends\":[]}|backends: at least one backend is required",
      "{\"backends\":[{\"name\":\"a\"}]}|backends[0].port: is required",
      "{\"backends\":[{\"port\":1,\"priority\":-1}]}|backends[0].priority: must be an integer",
      "{\"backends\":[{\"name\":\"a\",\"port\":1},{\"name\":\"a\",\"port\":2}]}|backends[1].name: duplicate",
      "{" + BACKENDS + ",\"auth\":{\"users\":[{\"name\":\"x\"}]}}|auth.users[0]: give exactly one of password and passwordHash",
      // The placeholder of k8s/users.json: a proxy nobody can log in to must not start.
      "{" + BACKENDS + ",\"auth\":{\"users\":[{\"name\":\"x\",\"passwordHash\":\"$pbkdf2$it=210000$REPLACE-WITH-A-HASH$REPLACE\"}]}}|auth.users[0].passwordHash: is not a password hash",
      "{" + BACKENDS + ",\"auth\":{\"users\":[{\"name\":\"x\",\"passwordHash\":\"$pbkdf2$x\"}]}}|auth.users[0].passwordHash: is not a password hash",
      // A real hash padded or cut short: the check compares the Base64 strings, so neither ever matches.
      "{" + BACKENDS + ",\"auth\":{\"users\":[{\"name\":\"x\",\"passwordHash\":\"$pbkdf2$it=210000$dSqIHtNZMRPghZ7hoq4vuA$zCRDcJnJw8zq1dr4BzuAptatD+S79G9YXIJBNl3gAv4W+0ivNQe7QY0s9wAnRTSyL3OujPkH9UpBo2/yZb1Zug==\"}]}}|auth.users[0].passwordHash: is not a password hash",
      "{" + BACKENDS + ",\"auth\":{\"users\":[{\"name\":\"x\",\"passwordHash\":\"$pbkdf2$it=210000$dSqIHtNZMRPghZ7hoq4vuA$zCRDcJnJw8zq1dr4BzuAptatD+S79G9YXIJBNl3gAv4\"}]}}|auth.users[0].passwordHash: is not a password hash",
      "{" + BACKENDS + ",\"auth\":{\"users\":[{\"name\":\"x\",\"password\":\"p\",\"roles\":[\"root\"]}]}}|auth.users[0].roles[0]: must be one of tunnel, admin, metrics",
      "{" + BACKENDS + ",\"auth\":{\"users\":[{\"name\":\"x\",\"password\":\"p\",\"roles\":[]}]}}|auth.users[0].roles: give at least one of tunnel, admin, metrics",
      "{" + BACKENDS + ",\"session\":{\"framing\":\"json\"}}|session.framing: must be \"dbx\" or \"raw\"",
      "{" + BACKENDS + ",\"session\":{\"replayLimitBytes\":1.5}}|session.replayLimitBytes: must be an integer",
      "{" + BACKENDS + ",\"health\":{\"intervalMs\":true}}|health.intervalMs: must be an integer",
      "{" + BACKENDS + ",\"http\":[]}|http: must be a JSON object",
      "{\"backends\":[{\"port\":1}],\"health\":{\"kind\":\"http\"}}|backends[0].httpPort: is required by the \"http\" health check",
      "[1,2]|not a valid JSON object",
      "{\"backends\":|not a valid JSON object"})
  void invalidConfigNamesTheKey(String json, String message) {
    assertThatThrownBy(() -> ProxyConfig.parse(json)).isInstanceOf(ConfigException.class)
        .hasMessageContaining(message);
  }

  @Test
  void userToStringNeverShowsThePassword() {
    ProxyConfig c = ProxyConfig.parse("{" + BACKENDS + ",\"auth\":{\"users\":[{\"name\":\"u\",\"password\":\"hunter2\"}]}}");
    assertThat(c.auth().users().get(0).toString()).doesNotContain("hunter2");
    assertThat(c.toString()).doesNotContain("hunter2");
  }

  @Test
  void clusterSectionAndPerPodEnvironmentValues() {
    String text = "{" + BACKENDS + ",\"cluster\":{\"enabled\":true,\"trustedNetwork\":true,\"members\":[\"10.0.0.1:5701\"]},"
        + "\"auth\":{\"users\":[{\"name\":\"file\",\"password\":\"x\"}]}}";
    ProxyConfig c = ProxyConfig.parse(text, java.util.Map.of("DSTUNNEL_CLUSTER_HOST", "10.1.2.3",
        "DSTUNNEL_HTTP_PORT", "9090", "DSTUNNEL_AUTH_USERS", "[{\"name\":\"op\",\"passwordHash\":\"$pbkdf2$it=210000$c2FsdHNhbHRzYWx0$AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw\"}]"));
    assertThat(c.cluster().enabled()).isTrue();
    assertThat(c.cluster().host()).isEqualTo("10.1.2.3");
    assertThat(c.cluster().backups()).isEqualTo(ClusterConfig.DEFAULT_BACKUPS);
    assertThat(c.cluster().publicHost()).as("advertised as bound unless said").isEqualTo("10.1.2.3");
    assertThat(c.cluster().publicPort()).isEqualTo(ClusterConfig.DEFAULT_PORT);
    assertThat(c.http().port()).isEqualTo(9090);
    assertThat(c.auth().users()).extracting(UserConfig::name).containsExactly("op");
    assertThat(c.auth().users().get(0).roles()).as("no roles: a tunnel user").containsExactly(Role.TUNNEL);
    assertThat(ProxyConfig.parse("{" + BACKENDS + "}").cluster().enabled()).isFalse();
    assertThatThrownBy(() -> ProxyConfig.parse("{" + BACKENDS + ",\"cluster\":{\"enabled\":true}}"))
        .hasMessageContaining("cluster.members");
    ClusterConfig relayed = ProxyConfig.parse("{" + BACKENDS + ",\"cluster\":{\"enabled\":true,\"trustedNetwork\":true,\"members\":"
        + "[\"h:1\"],\"port\":5701,\"eventBusPort\":5801,\"publicHost\":\"nat.example\",\"publicPort\":15701,"
        + "\"publicEventBusPort\":15801}}").cluster();
    assertThat(relayed.publicHost()).isEqualTo("nat.example");
    assertThat(relayed.publicPort()).isEqualTo(15701);
    assertThat(relayed.publicEventBusPort()).isEqualTo(15801);
    assertThatThrownBy(() -> ProxyConfig.parse("{" + BACKENDS + "}", java.util.Map.of("DSTUNNEL_HTTP_PORT", "x")))
        .hasMessageContaining("DSTUNNEL_HTTP_PORT");
  }

  private static final String KEY = "0123456789abcdefghijklmnopqrstuvwxyz";

  @Test
  void aClusterNodeWithoutTheClusterKeyIsRefusedNamingIt() {
    String cluster = "{" + BACKENDS + ",\"cluster\":{\"enabled\":true,\"members\":[\"h:1\"]}}";
    assertThatThrownBy(() -> ProxyConfig.parse(cluster)).isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("cluster.secret:").hasMessageContaining("cluster.trustedNetwork");
    assertThat(ProxyConfig.parse("{" + BACKENDS + ",\"cluster\":{\"enabled\":false}}").cluster().secret())
        .as("a single node needs no key").isNull();
    ClusterConfig trusted = ProxyConfig.parse("{" + BACKENDS + ",\"cluster\":{\"enabled\":true,\"members\":[\"h:1\"],"
        + "\"trustedNetwork\":true}}").cluster();
    assertThat(trusted.trustedNetwork()).isTrue();
    assertThat(trusted.secret()).isNull();
  }

  @Test
  void theClusterKeyComesFromTheFileOrTheEnvironmentAndIsNeverShown() {
    String file = "{" + BACKENDS + ",\"cluster\":{\"enabled\":true,\"members\":[\"h:1\"],\"secret\":\"" + KEY + "\"}}";
    ClusterConfig c = ProxyConfig.parse(file).cluster();
    assertThat(c.secret()).isEqualTo(KEY);
    assertThat(c.trustedNetwork()).isFalse();
    assertThat(c.toString()).doesNotContain(KEY).contains("secret=(set)");
    assertThat(ProxyConfig.parse(file).toString()).doesNotContain(KEY);
    String other = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210";
    assertThat(ProxyConfig.parse(file, java.util.Map.of("DSTUNNEL_CLUSTER_SECRET", other)).cluster().secret())
        .as("the environment over the file").isEqualTo(other);
    String noKey = "{" + BACKENDS + ",\"cluster\":{\"enabled\":true,\"members\":[\"h:1\"]}}";
    assertThat(ProxyConfig.parse(noKey, java.util.Map.of("DSTUNNEL_CLUSTER_SECRET", KEY)).cluster().secret())
        .isEqualTo(KEY);
    assertThatThrownBy(() -> ProxyConfig.parse(noKey, java.util.Map.of("DSTUNNEL_CLUSTER_SECRET", "short-and-guessable")))
        .hasMessageStartingWith("cluster.secret:").hasMessageContaining("at least 32").hasMessageNotContaining("guessable");
  }

  /**
   * Keys that are not what {@code openssl rand -base64 32} gives are refused, without being
   * printed. Before, a key of 40 "é" and one of 40 "ß", both read from the environment under a C
   * locale (every non-ASCII character becomes U+FFFD), made one cluster; 32 spaces were a key.
   */
  @Test
  void aClusterKeyThatIsNotRandomPrintableAsciiIsRefusedWithoutBeingShown() {
    String noKey = "{" + BACKENDS + ",\"cluster\":{\"enabled\":true,\"members\":[\"h:1\"]}}";
    String unreadable = "\uFFFD".repeat(40);
    assertThatThrownBy(() -> ProxyConfig.parse(noKey, java.util.Map.of("DSTUNNEL_CLUSTER_SECRET", unreadable)))
        .hasMessageStartingWith("cluster.secret:").hasMessageContaining("printable ASCII").hasMessageNotContaining("\uFFFD");
    String accented = "é".repeat(20) + KEY;
    assertThatThrownBy(() -> ProxyConfig.parse("{" + BACKENDS + ",\"cluster\":{\"enabled\":true,\"members\":[\"h:1\"],"
        + "\"secret\":\"" + accented + "\"}}")).hasMessageContaining("position 1").hasMessageNotContaining(KEY);
    assertThatThrownBy(() -> ProxyConfig.parse("{" + BACKENDS + ",\"cluster\":{\"enabled\":true,\"members\":[\"h:1\"],"
        + "\"secret\":\"" + " ".repeat(40) + "\"}}")).hasMessageStartingWith("cluster.secret:");
    String inner = KEY.substring(0, 16) + " " + KEY.substring(16);
    assertThatThrownBy(() -> ProxyConfig.parse(noKey, java.util.Map.of("DSTUNNEL_CLUSTER_SECRET", inner)))
        .hasMessageContaining("position 17");
    assertThatThrownBy(() -> ProxyConfig.parse(noKey, java.util.Map.of("DSTUNNEL_CLUSTER_SECRET", "ab".repeat(20))))
        .hasMessageContaining("random").hasMessageContaining("2 different").hasMessageNotContaining("abab");
    assertThat(ProxyConfig.parse(noKey, java.util.Map.of("DSTUNNEL_CLUSTER_SECRET", KEY + "\n")).cluster().secret())
        .as("a Secret made from a file ends with a newline").isEqualTo(KEY);
    assertThat(ProxyConfig.parse("{" + BACKENDS + ",\"cluster\":{\"enabled\":true,\"members\":[\"h:1\"],"
        + "\"secret\":\" " + KEY + " \"}}").cluster().secret()).as("the file's value as the environment's").isEqualTo(KEY);
  }

  /** A file that is not JSON is said with where the parser stopped, never what it read: an unquoted key is not printed. */
  @Test
  void aSyntaxErrorNeverQuotesTheFile() {
    String unquoted = "{" + BACKENDS + ",\"cluster\":{\"enabled\":true,\"members\":[\"h:1\"],\"secret\":" + KEY + "}}";
    assertThatThrownBy(() -> ProxyConfig.parse(unquoted)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("not a valid JSON object (line 1, column").hasMessageNotContaining(KEY.substring(0, 12));
  }
}
