// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.admin;

import io.vertx.core.http.HttpMethod;

/**
 * What an admin request asks for, as the audit trail names it: {@code drain}, {@code migrate},
 * {@code enable}, {@code disable} of {@code backend NAME}, {@code close-session} of
 * {@code session ID}; anything else by its method and path.
 */
record AdminAction(String action, String target) {

  static AdminAction of(HttpMethod method, String path) {
    String[] parts = path.split("/");
    // "", "admin", "backends", NAME, ACTION
    if (method == HttpMethod.POST && parts.length == 5 && parts[1].equals("admin") && parts[2].equals("backends")) {
      return new AdminAction(parts[4], "backend " + parts[3]);
    }
    if (method == HttpMethod.DELETE && parts.length == 4 && parts[1].equals("admin") && parts[2].equals("sessions")) {
      return new AdminAction("close-session", "session " + parts[3]);
    }
    return new AdminAction(method.name(), path.length() > 200 ? path.substring(0, 200) + "…" : path);
  }
}
