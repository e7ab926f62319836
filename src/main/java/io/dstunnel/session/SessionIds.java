// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.session;

import java.security.SecureRandom;
import java.util.Base64;

/** Session ids: 144 bits from {@link SecureRandom}, base64url without padding (24 characters). */
public final class SessionIds {

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();

  private SessionIds() {
  }

  public static String next() {
    byte[] bytes = new byte[18];
    RANDOM.nextBytes(bytes);
    return ENCODER.encodeToString(bytes);
  }

  /** Whether {@code id} has the shape of an id this proxy hands out (cheap pre-check). */
  public static boolean wellFormed(String id) {
    if (id == null || id.length() != 24) {
      return false;
    }
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      if (!(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_')) {
        return false;
      }
    }
    return true;
  }
}
