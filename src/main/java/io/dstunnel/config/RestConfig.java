// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.config;

import io.vertx.core.json.JsonArray;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * DataSnap REST through dstunnel (rest.md, section {@code rest}).
 *
 * @param retryableMethods the {@code Class.Method}s safe to run twice, which a request that was
 *     sent and then failed may be sent again for (to the next backend) instead of answering 502
 * @param passThroughPaths path prefixes outside {@code /{http.context}/} passed through to a REST
 *     backend unchanged and without credentials (the application's own pages and scripts)
 * @param corsOrigins origins whose browser pages may call the REST side ({@code "*"}: any); empty:
 *     no CORS answers
 */
public record RestConfig(Set<String> retryableMethods, List<String> passThroughPaths, List<String> corsOrigins) {

  public static final List<String> DEFAULT_PASS_THROUGH_PATHS = List.of("/");

  static RestConfig fromJson(Object value) {
    JsonSection s = JsonSection.of("rest", value, Set.of("retryableMethods", "passThroughPaths", "corsOrigins"));
    List<String> methods = strings(s.array("retryableMethods"), "rest.retryableMethods",
        m -> m.indexOf('.') > 0, "must be a method name such as \"TServerMethods1.EchoString\"");
    JsonArray paths = s.array("passThroughPaths");
    List<String> passThrough = paths == null ? DEFAULT_PASS_THROUGH_PATHS : strings(paths, "rest.passThroughPaths",
        p -> p.startsWith("/"), "must be a path prefix starting with \"/\", such as \"/js/\"");
    List<String> origins = strings(s.array("corsOrigins"), "rest.corsOrigins",
        o -> o.equals("*") || o.matches("https?://[^/\\s]+"), "must be an origin such as \"https://app.example\", or \"*\"");
    return new RestConfig(Set.copyOf(methods), List.copyOf(passThrough), List.copyOf(origins));
  }

  private static List<String> strings(JsonArray array, String key, java.util.function.Predicate<String> valid,
                                      String rule) {
    List<String> out = new ArrayList<>();
    if (array != null) {
      for (int i = 0; i < array.size(); i++) {
        if (!(array.getValue(i) instanceof String v) || !valid.test(v)) {
          throw new ConfigException(key + "[" + i + "]", rule);
        }
        out.add(v);
      }
    }
    return out;
  }
}
