// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.config;

import java.util.Set;

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
