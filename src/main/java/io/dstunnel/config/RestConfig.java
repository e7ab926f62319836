package io.dstunnel.config;

import io.vertx.core.json.JsonArray;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * DataSnap REST through dstunnel (rest.md): {@code retryableMethods}, the {@code Class.Method}s
 * safe to run twice, which a request that was sent and then failed may be sent again for (to the
 * next backend) instead of answering 502.
 */
public record RestConfig(Set<String> retryableMethods) {

  static RestConfig fromJson(Object value) {
    JsonSection s = JsonSection.of("rest", value, Set.of("retryableMethods"));
    JsonArray array = s.array("retryableMethods");
    List<String> methods = new ArrayList<>();
    if (array != null) {
      for (int i = 0; i < array.size(); i++) {
        if (!(array.getValue(i) instanceof String m) || m.indexOf('.') <= 0) {
          throw new ConfigException("rest.retryableMethods[" + i + "]",
              "must be a method name such as \"TServerMethods1.EchoString\"");
        }
        methods.add(m);
      }
    }
    return new RestConfig(Set.copyOf(methods));
  }
}
