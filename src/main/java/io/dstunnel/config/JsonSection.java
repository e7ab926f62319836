// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.config;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Set;

/**
 * Typed, validating reads from one JSON object of the config, naming the full key in every error.
 */
final class JsonSection {

  private final String path;
  private final JsonObject json;

  private JsonSection(String path, JsonObject json) {
    this.path = path;
    this.json = json;
  }

  /** The section {@code key} of {@code parent} (empty when absent), checked for unknown keys. */
  static JsonSection of(String path, Object value, Set<String> allowed) {
    if (value == null) {
      return new JsonSection(path, new JsonObject());
    }
    if (!(value instanceof JsonObject obj)) {
      throw new ConfigException(path, "must be a JSON object");
    }
    for (String key : obj.fieldNames()) {
      if (!allowed.contains(key)) {
        throw new ConfigException(join(path, key), "unknown key (known: " + String.join(", ", allowed.stream().sorted().toList()) + ")");
      }
    }
    return new JsonSection(path, obj);
  }

  static String join(String path, String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  String key(String key) {
    return join(path, key);
  }

  Object raw(String key) {
    return json.getValue(key);
  }

  boolean has(String key) {
    return json.containsKey(key) && json.getValue(key) != null;
  }

  int integer(String key, int def, int min, int max) {
    long v = longValue(key, def, min, max);
    return (int) v;
  }

  long longValue(String key, long def, long min, long max) {
    Object v = json.getValue(key);
    if (v == null) {
      return def;
    }
    if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())
        || v instanceof Double && Double.isInfinite((Double) v)) {
      throw new ConfigException(key(key), "must be an integer from " + min + " to " + max);
    }
    long l = n.longValue();
    if (l < min || l > max) {
      throw new ConfigException(key(key), "must be an integer from " + min + " to " + max + ", got " + l);
    }
    return l;
  }

  String string(String key, String def) {
    Object v = json.getValue(key);
    if (v == null) {
      return def;
    }
    if (!(v instanceof String s)) {
      throw new ConfigException(key(key), "must be a string");
    }
    return s;
  }

  String nonEmptyString(String key, String def) {
    String s = string(key, def);
    if (s != null && s.isBlank()) {
      throw new ConfigException(key(key), "must not be empty");
    }
    return s;
  }

  /** One of {@code values}, spelled as {@code spelling} gives. */
  <E> E oneOf(String key, E[] values, java.util.function.Function<E, String> spelling, E def) {
    String v = string(key, null);
    if (v == null) {
      return def;
    }
    for (E e : values) {
      if (spelling.apply(e).equals(v)) {
        return e;
      }
    }
    throw new ConfigException(key(key), "must be one of "
        + String.join(", ", java.util.Arrays.stream(values).map(e -> "\"" + spelling.apply(e) + "\"").toList()));
  }

  boolean bool(String key, boolean def) {
    Object v = json.getValue(key);
    if (v == null) {
      return def;
    }
    if (!(v instanceof Boolean b)) {
      throw new ConfigException(key(key), "must be true or false");
    }
    return b;
  }

  JsonArray array(String key) {
    Object v = json.getValue(key);
    if (v == null) {
      return null;
    }
    if (!(v instanceof JsonArray a)) {
      throw new ConfigException(key(key), "must be a JSON array");
    }
    return a;
  }
}
