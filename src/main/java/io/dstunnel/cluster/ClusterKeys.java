// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import io.dstunnel.auth.Hkdf;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.Socket;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPrivateKeySpec;
import java.security.spec.ECPublicKeySpec;
import java.util.Date;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;
import org.bouncycastle.asn1.sec.SECNamedCurves;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.ContentSigner;

/**
 * The TLS material every node derives from {@code cluster.secret}, in memory (no key store file):
 * one EC P-256 key pair and one self-signed certificate, byte for byte the same on every node
 * holding the secret. Both the member port (JGroups, through {@link #sslContext()}) and the event
 * bus (through the PKCS12 bytes) require the peer to present it: a process without the secret
 * cannot complete a handshake, in either direction.
 *
 * <p>Derivation: HKDF-Extract (RFC 5869, HMAC-SHA256, salt {@code dstunnel-cluster-v1}) of the
 * secret, HKDF-Expand ({@code tls-p256}, 48 bytes) to the private scalar; the certificate is signed
 * with RFC 6979 deterministic ECDSA, fixed serial and dates, so every node makes the same one (a
 * random ECDSA nonce would give each node a different certificate, and the PKCS12 trust stores
 * would not match). The secret is key material, not a password: any peer that connects sees the
 * public key, so a guessable secret could be found offline; hence at least 32 random characters.
 *
 * <p>Blocking (EC arithmetic, BouncyCastle's class loading: a few hundred milliseconds): built
 * before Vert.x starts, never on an event loop.
 */
final class ClusterKeys {

  /** The PKCS12 stores' password: they never leave the process, it protects nothing. */
  static final String STORE_PASSWORD = "dstunnel";
  /** The only TLS version either cluster port speaks (the JDK would take TLS 1.2 and its CBC suites too). */
  static final String[] PROTOCOLS = {"TLSv1.3"};
  private static final Provider BC = new BouncyCastleProvider();

  private final KeyPair keyPair;
  private final KeyStore keyStore;
  private final byte[] keyStoreP12;
  private final byte[] trustStoreP12;

  ClusterKeys(String secret) {
    try {
      keyPair = ecKeyPair(Hkdf.expand(Hkdf.ofClusterSecret(secret), "tls-p256", 48));
      X509Certificate cert = selfSigned(keyPair);
      char[] pw = STORE_PASSWORD.toCharArray();
      keyStore = KeyStore.getInstance("PKCS12");
      keyStore.load(null, null);
      keyStore.setKeyEntry("cluster", keyPair.getPrivate(), pw, new Certificate[] {cert});
      keyStoreP12 = bytes(keyStore, pw);
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      trust.setCertificateEntry("cluster", cert);
      trustStoreP12 = bytes(trust, pw);
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new IllegalStateException("cannot derive the cluster's keys: " + e, e);
    }
  }

  /** A PKCS12 key store (password {@link #STORE_PASSWORD}) with the cluster's key and certificate. */
  byte[] keyStore() {
    return keyStoreP12.clone();
  }

  /** A PKCS12 trust store (password {@link #STORE_PASSWORD}) holding only the cluster's certificate. */
  byte[] trustStore() {
    return trustStoreP12.clone();
  }

  /** TLS 1.3 with the cluster's key, trusting exactly a peer that proves it holds the same key. */
  SSLContext sslContext() {
    try {
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keyStore, STORE_PASSWORD.toCharArray());
      SSLContext ctx = SSLContext.getInstance("TLSv1.3");
      ctx.init(kmf.getKeyManagers(), new TrustManager[] {new PinningTrustManager(keyPair.getPublic())},
          new SecureRandom());
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot build the cluster's TLS context: " + e, e);
    }
  }

  private static byte[] bytes(KeyStore ks, char[] pw) throws GeneralSecurityException, java.io.IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ks.store(out, pw);
    return out.toByteArray();
  }

  /** The P-256 key pair whose private scalar is {@code seed} reduced into [1, n-1]. */
  private static KeyPair ecKeyPair(byte[] seed) throws GeneralSecurityException {
    X9ECParameters curve = SECNamedCurves.getByName("secp256r1");
    BigInteger n = curve.getN();
    BigInteger d = new BigInteger(1, seed).mod(n.subtract(BigInteger.ONE)).add(BigInteger.ONE);
    org.bouncycastle.math.ec.ECPoint q = curve.getG().multiply(d).normalize();
    AlgorithmParameters params = AlgorithmParameters.getInstance("EC");
    params.init(new ECGenParameterSpec("secp256r1"));
    ECParameterSpec spec = params.getParameterSpec(ECParameterSpec.class);
    KeyFactory kf = KeyFactory.getInstance("EC");
    PrivateKey priv = kf.generatePrivate(new ECPrivateKeySpec(d, spec));
    PublicKey pub = kf.generatePublic(new ECPublicKeySpec(
        new ECPoint(q.getAffineXCoord().toBigInteger(), q.getAffineYCoord().toBigInteger()), spec));
    return new KeyPair(pub, priv);
  }

  /** The cluster's certificate: the same bytes on every node (deterministic signature, fixed fields). */
  private static X509Certificate selfSigned(KeyPair kp) throws CertificateException {
    X500Name name = new X500Name("CN=dstunnel-cluster");
    JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, BigInteger.ONE,
        new Date(946_684_800_000L), new Date(253_402_214_400_000L), name, kp.getPublic());
    return new JcaX509CertificateConverter().getCertificate(b.build(deterministicSigner(kp.getPrivate())));
  }

  /** ecdsa-with-SHA256 with RFC 6979 nonces (BouncyCastle's SHA256withECDDSA): same input, same signature. */
  private static ContentSigner deterministicSigner(PrivateKey key) {
    ByteArrayOutputStream tbs = new ByteArrayOutputStream();
    return new ContentSigner() {
      @Override
      public AlgorithmIdentifier getAlgorithmIdentifier() {
        return new AlgorithmIdentifier(X9ObjectIdentifiers.ecdsa_with_SHA256);
      }

      @Override
      public OutputStream getOutputStream() {
        return tbs;
      }

      @Override
      public byte[] getSignature() {
        try {
          Signature s = Signature.getInstance("SHA256withECDDSA", BC);
          s.initSign(key);
          s.update(tbs.toByteArray());
          return s.sign();
        } catch (GeneralSecurityException e) {
          throw new IllegalStateException(e);
        }
      }
    };
  }

  /** Trusts exactly the cluster's public key: the handshake proves the peer holds its private key. */
  static final class PinningTrustManager extends X509ExtendedTrustManager {
    private final byte[] expected;

    PinningTrustManager(PublicKey key) {
      expected = key.getEncoded();
    }

    private void check(X509Certificate[] chain) throws CertificateException {
      if (chain == null || chain.length == 0
          || !MessageDigest.isEqual(expected, chain[0].getPublicKey().getEncoded())) {
        throw new CertificateException("the peer does not hold the cluster's key");
      }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String auth, Socket s) throws CertificateException {
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String auth, Socket s) throws CertificateException {
      check(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String auth, SSLEngine e) throws CertificateException {
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String auth, SSLEngine e) throws CertificateException {
      check(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String auth) throws CertificateException {
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String auth) throws CertificateException {
      check(chain);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
