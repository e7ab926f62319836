// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.auth;

import io.vertx.ext.auth.hashing.HashingStrategy;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;

/** Password hashes for {@code auth.users[].passwordHash}: PBKDF2-HMAC-SHA512 in PHC form. */
public final class Passwords {

  /** OWASP's 2023 advice for PBKDF2-HMAC-SHA512. */
  public static final int ITERATIONS = 210_000;

  private static final SecureRandom RANDOM = new SecureRandom();

  private Passwords() {
  }

  /** A new {@code $pbkdf2$it=...$salt$hash} string for {@code password}, with a random 128-bit salt. */
  public static String hash(String password) {
    byte[] salt = new byte[16];
    RANDOM.nextBytes(salt);
    String s = Base64.getEncoder().withoutPadding().encodeToString(salt);
    return HashingStrategy.load().hash("pbkdf2", Map.of("it", Integer.toString(ITERATIONS)), s, password);
  }
}
