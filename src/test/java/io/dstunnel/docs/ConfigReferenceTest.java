// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.docs;

import static org.assertj.core.api.Assertions.assertThat;

import io.dstunnel.config.ConfigException;
import io.dstunnel.config.ProxyConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * src/site/markdown/configuration.md names every key the config accepts. The keys are not copied
 * here: they are learnt from the validator itself, which refuses an unknown key with the list of
 * the keys its section knows. A probe key is put into each section in turn (and into each key that
 * turns out to be a section, or an array of them), and the list in the refusal is read.
 */
class ConfigReferenceTest {

  private static final String PROBE = "zz-probe";
  private static final Pattern UNKNOWN = Pattern.compile("^(\\S+): unknown key \\(known: ([^)]*)\\)");

  @Test
  void theReferenceNamesEveryAcceptedKey() throws IOException {
    Set<String> keys = acceptedKeys();
    // The discovery reaches nested sections, arrays of sections and sections inside those.
    assertThat(keys).contains("backends", "backends[].port", "backends[].health.kind", "auth.users[].roles",
        "http.tls.certPath", "cluster.kubernetes.serviceDns");
    String page = Files.readString(Path.of("src/site/markdown/configuration.md"));
    List<String> missing = keys.stream().filter(k -> !page.contains("`" + k + "`")).toList();
    assertThat(missing).as("keys the config accepts that configuration.md does not name (as `key`)").isEmpty();
  }

  /** The configs the docs tell people to run (the quick start's, the sample, Kubernetes') are valid. */
  @Test
  void theConfigsTheDocsUseAreValid() throws IOException {
    for (String file : List.of("conf/quickstart.json", "conf/dstunnel.json")) {
      ProxyConfig.parse(Files.readString(Path.of(file)));
    }
    // Kubernetes' takes the cluster's key from a Secret (DSTUNNEL_CLUSTER_SECRET); without it, no start.
    String k8s = Files.readString(Path.of("k8s/dstunnel.json"));
    ProxyConfig.parse(k8s, java.util.Map.of("DSTUNNEL_CLUSTER_SECRET", "k8s-secret-0123456789abcdefghijklmnopqrstuv"));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> ProxyConfig.parse(k8s))
        .hasMessageStartingWith("cluster.secret:");
  }

  /** Every key the validator accepts, dotted, with {@code []} for an array element. */
  static Set<String> acceptedKeys() {
    Set<String> keys = new TreeSet<>();
    explore(List.of(), keys);
    return keys;
  }

  /** {@code path} is a section: learn its keys, then find out which of them are sections too. */
  private static void explore(List<Object> path, Set<String> keys) {
    List<String> known = knownKeys(path, new JsonObject().put(PROBE, 1));
    assertThat(known).as("keys of section " + dotted(path)).isNotNull();
    for (String key : known) {
      List<Object> child = append(path, key);
      keys.add(dotted(child));
      if (knownKeys(child, new JsonObject().put(PROBE, 1)) != null) {
        explore(child, keys);
      } else if (knownKeys(append(child, 0), new JsonObject().put(PROBE, 1)) != null) {
        explore(append(child, 0), keys);
      }
    }
  }

  /** The keys the section at {@code path} knows, if putting {@code probe} there is refused as unknown. */
  private static List<String> knownKeys(List<Object> path, JsonObject probe) {
    JsonObject config = new JsonObject().put("backends", new JsonArray().add(new JsonObject().put("port", 1)));
    place(config, path, probe);
    try {
      ProxyConfig.fromJson(config);
      return null;
    } catch (ConfigException e) {
      Matcher m = UNKNOWN.matcher(e.getMessage());
      if (m.find() && m.group(1).equals(path.isEmpty() ? PROBE : raw(path) + "." + PROBE)) {
        return Arrays.stream(m.group(2).split(",\\s*")).toList();
      }
      return null;
    }
  }

  /** Puts {@code value} at {@code path} (names and array indexes), making the sections on the way. */
  private static void place(JsonObject config, List<Object> path, JsonObject value) {
    if (path.isEmpty()) {
      config.mergeIn(value);
      return;
    }
    Object parent = config;
    for (int i = 0; i < path.size(); i++) {
      Object step = path.get(i);
      boolean last = i == path.size() - 1;
      Object next = last ? value : (path.get(i + 1) instanceof Integer ? new JsonArray() : new JsonObject());
      if (parent instanceof JsonObject o) {
        String name = (String) step;
        Object existing = o.getValue(name);
        if (existing != null && !last && (existing instanceof JsonObject || existing instanceof JsonArray)) {
          next = existing;
        } else {
          o.put(name, next);
        }
      } else {
        JsonArray a = (JsonArray) parent;
        if (a.isEmpty()) {
          a.add(next);
        } else if (last) {
          a.getJsonObject(0).mergeIn(value);
          next = a.getValue(0);
        } else {
          next = a.getValue(0);
        }
      }
      parent = next;
    }
  }

  private static List<Object> append(List<Object> path, Object step) {
    List<Object> p = new ArrayList<>(path);
    p.add(step);
    return p;
  }

  /** {@code backends[0].health} as the validator spells it. */
  private static String raw(List<Object> path) {
    StringBuilder b = new StringBuilder();
    for (Object step : path) {
      if (step instanceof Integer i) {
        b.append('[').append(i).append(']');
      } else {
        b.append(b.length() == 0 ? "" : ".").append(step);
      }
    }
    return b.toString();
  }

  /** {@code backends[].health}, as the reference spells it. */
  private static String dotted(List<Object> path) {
    return raw(path).replaceAll("\\[\\d+]", "[]");
  }
}
