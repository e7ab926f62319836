// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.auth;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * HKDF with HMAC-SHA256 (RFC 5869): the keys dstunnel derives from one secret, one per use, none
 * telling anything of the others or of the secret.
 */
public final class Hkdf {

  private static final String HMAC = "HmacSHA256";

  private Hkdf() {
  }

  /** The cluster's master key: HKDF-Extract of {@code cluster.secret} under the salt {@code dstunnel-cluster-v1}. */
  public static byte[] ofClusterSecret(String secret) {
    return extract("dstunnel-cluster-v1", secret);
  }

  /** HKDF-Extract: the pseudo-random key of {@code secret} under {@code salt}. */
  public static byte[] extract(String salt, String secret) {
    try {
      Mac mac = Mac.getInstance(HMAC);
      mac.init(new SecretKeySpec(salt.getBytes(StandardCharsets.UTF_8), HMAC));
      return mac.doFinal(secret.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HMAC-SHA256 is missing from this Java runtime", e);
    }
  }

  /** HKDF-Expand: {@code length} bytes for the use {@code info}. */
  public static byte[] expand(byte[] prk, String info, int length) {
    try {
      Mac mac = Mac.getInstance(HMAC);
      mac.init(new SecretKeySpec(prk, HMAC));
      byte[] out = new byte[length];
      byte[] t = new byte[0];
      for (int i = 1, off = 0; off < length; i++) {
        mac.update(t);
        mac.update(info.getBytes(StandardCharsets.UTF_8));
        mac.update((byte) i);
        t = mac.doFinal();
        System.arraycopy(t, 0, out, off, Math.min(t.length, length - off));
        off += t.length;
      }
      return out;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HMAC-SHA256 is missing from this Java runtime", e);
    }
  }
}
