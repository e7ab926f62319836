// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.rest;

import io.dstunnel.auth.Hkdf;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The REST session records as they lie in the cluster's map: sealed with AES-256-GCM under a key
 * derived from the cluster's key ({@code cluster.secret}, HKDF use {@code rest-records}), each
 * bound to its session id, so that the credentials that opened a session are never in a shared
 * map in clear, and a record cannot be moved to another id or altered unseen. Without a key
 * ({@code cluster.trustedNetwork}: the cluster's traffic is in clear anyway) records are as they are.
 */
final class SealedRecords {

  private static final String PREFIX = "s1.";
  private static final int NONCE = 12;
  private static final int TAG_BITS = 128;

  private final SecretKey key;
  private final SecureRandom random = new SecureRandom();

  /** Records sealed with the key derived from {@code clusterSecret}; null: kept in clear. */
  SealedRecords(String clusterSecret) {
    this.key = clusterSecret == null ? null
        : new SecretKeySpec(Hkdf.expand(Hkdf.ofClusterSecret(clusterSecret), "rest-records", 32), "AES");
  }

  /** {@code record} of session {@code id}, as the map keeps it. */
  String seal(String id, String record) {
    if (key == null) {
      return record;
    }
    try {
      byte[] nonce = new byte[NONCE];
      random.nextBytes(nonce);
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
      c.updateAAD(id.getBytes(StandardCharsets.UTF_8));
      byte[] sealed = c.doFinal(record.getBytes(StandardCharsets.UTF_8));
      byte[] out = new byte[NONCE + sealed.length];
      System.arraycopy(nonce, 0, out, 0, NONCE);
      System.arraycopy(sealed, 0, out, NONCE, sealed.length);
      return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(out);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM is missing from this Java runtime", e);
    }
  }

  /**
   * The record of session {@code id} that the map holds as {@code text}; null when it is not one
   * this cluster's key sealed for that id (then the session is unknown here).
   */
  String open(String id, String text) {
    if (key == null) {
      return text.startsWith(PREFIX) ? null : text;
    }
    if (!text.startsWith(PREFIX)) {
      return null;
    }
    try {
      byte[] in = Base64.getUrlDecoder().decode(text.substring(PREFIX.length()));
      if (in.length < NONCE + TAG_BITS / 8) {
        return null;
      }
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, in, 0, NONCE));
      c.updateAAD(id.getBytes(StandardCharsets.UTF_8));
      return new String(c.doFinal(in, NONCE, in.length - NONCE), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException | GeneralSecurityException e) {
      return null;
    }
  }
}
