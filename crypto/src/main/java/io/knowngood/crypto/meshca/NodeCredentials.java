package io.knowngood.crypto.meshca;

import io.knowngood.crypto.files.AtomicFile;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * What one mesh member needs for TLS: a PKCS12 key store (its P-256 key and certificate chain, alias
 * {@value #ALIAS}), a PKCS12 trust store (the mesh CA certificate only, alias {@value #CA_ALIAS}) and the
 * password of both. On disk: {@value #KEYSTORE_FILE}, {@value #TRUSTSTORE_FILE} and {@value #PASSWORD_FILE}
 * (one line), the first and last owner-only.
 */
public final class NodeCredentials {

  public static final String KEYSTORE_FILE = "node.p12";
  public static final String TRUSTSTORE_FILE = "truststore.p12";
  public static final String PASSWORD_FILE = "store.pass";
  public static final String ALIAS = "node";
  public static final String CA_ALIAS = "mesh-ca";

  private final String nodeId;
  private final KeyStore keyStore;
  private final KeyStore trustStore;
  private final char[] password;

  private NodeCredentials(String nodeId, KeyStore keyStore, KeyStore trustStore, char[] password) {
    this.nodeId = nodeId;
    this.keyStore = keyStore;
    this.trustStore = trustStore;
    this.password = password.clone();
  }

  /** Builds in-memory stores for a key and its chain; the trust store holds {@code trustAnchor} only. */
  public static NodeCredentials create(String nodeId, PrivateKey key, X509Certificate cert, X509Certificate trustAnchor,
                                       char[] password) {
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      boolean issuedByAnchor = !cert.equals(trustAnchor)
          && cert.getIssuerX500Principal().equals(trustAnchor.getSubjectX500Principal());
      Certificate[] chain = issuedByAnchor ? new Certificate[] {cert, trustAnchor} : new Certificate[] {cert};
      ks.setKeyEntry(ALIAS, key, password, chain);
      KeyStore ts = KeyStore.getInstance("PKCS12");
      ts.load(null, null);
      ts.setCertificateEntry(CA_ALIAS, trustAnchor);
      return new NodeCredentials(nodeId, ks, ts, password);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot build key stores for " + nodeId, e);
    }
  }

  /** Wraps existing stores (e.g. PKCS12 files made with keytool or openssl); the key entry must be the only one or be named {@value #ALIAS}. */
  public static NodeCredentials of(String nodeId, KeyStore keyStore, KeyStore trustStore, char[] password) {
    return new NodeCredentials(nodeId, keyStore, trustStore, password);
  }

  /** Reads what {@link #writeTo(Path)} wrote. */
  public static NodeCredentials load(Path dir) throws IOException {
    char[] pw = Files.readString(dir.resolve(PASSWORD_FILE), StandardCharsets.UTF_8).strip().toCharArray();
    KeyStore ks = loadStore(dir.resolve(KEYSTORE_FILE), pw);
    KeyStore ts = loadStore(dir.resolve(TRUSTSTORE_FILE), pw);
    String id = dir.getFileName() == null ? "node" : dir.getFileName().toString();
    try {
      if (ks.getCertificate(ALIAS) instanceof X509Certificate c) {
        id = cnOf(c);
      }
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot read " + dir.resolve(KEYSTORE_FILE), e);
    }
    return new NodeCredentials(id, ks, ts, pw);
  }

  public static KeyStore loadStore(Path file, char[] password) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(in, password);
      return ks;
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot read PKCS12 store " + file, e);
    }
  }

  /** Writes the three files into {@code dir} (created if missing), replacing earlier ones. */
  public void writeTo(Path dir) throws IOException {
    Files.createDirectories(dir);
    AtomicFile.writeOwnerOnly(dir.resolve(KEYSTORE_FILE), storeBytes(keyStore));
    AtomicFile.writeOwnerOnly(dir.resolve(TRUSTSTORE_FILE), storeBytes(trustStore));
    AtomicFile.writeOwnerOnly(dir.resolve(PASSWORD_FILE), (new String(password) + "\n").getBytes(StandardCharsets.UTF_8));
  }

  public String nodeId() {
    return nodeId;
  }

  public KeyStore keyStore() {
    return keyStore;
  }

  public KeyStore trustStore() {
    return trustStore;
  }

  /** A copy of the store password. */
  public char[] password() {
    return password.clone();
  }

  /**
   * A TLS context for these credentials: presents the node key, trusts only the mesh CA (PKIX
   * path validation, no host name check: members are identified by certificate, not by DNS).
   */
  public SSLContext sslContext() {
    return sslContext(UnaryOperator.identity());
  }

  /**
   * As {@link #sslContext()}, with the PKIX trust manager passed through {@code watch}, which may wrap
   * it (to see which peer's certificate was refused, and why) but must not widen what it accepts.
   */
  public SSLContext sslContext(UnaryOperator<X509ExtendedTrustManager> watch) {
    try {
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(keyStore, password);
      TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
      tmf.init(trustStore);
      TrustManager[] tms = tmf.getTrustManagers().clone();
      for (int i = 0; i < tms.length; i++) {
        if (tms[i] instanceof X509ExtendedTrustManager x) {
          tms[i] = watch.apply(x);
        }
      }
      SSLContext ctx = SSLContext.getInstance("TLSv1.3");
      ctx.init(kmf.getKeyManagers(), tms, null);
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot build TLS context for " + nodeId, e);
    }
  }

  /** The X.509 certificates in a trust store, in alias order. */
  public static List<X509Certificate> trusted(KeyStore trustStore) throws GeneralSecurityException {
    List<X509Certificate> out = new ArrayList<>();
    for (String alias : Collections.list(trustStore.aliases())) {
      if (trustStore.getCertificate(alias) instanceof X509Certificate x) {
        out.add(x);
      }
    }
    return out;
  }

  /** The first of {@code cas} whose key signed {@code cert}: the CA that issued it, if it is among them. */
  public static Optional<X509Certificate> issuerOf(X509Certificate cert, List<X509Certificate> cas) {
    for (X509Certificate ca : cas) {
      try {
        cert.verify(ca.getPublicKey());
        return Optional.of(ca);
      } catch (GeneralSecurityException e) {
        // not this one
      }
    }
    return Optional.empty();
  }

  public X509Certificate certificate() {
    try {
      return (X509Certificate) keyStore.getCertificate(ALIAS);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private byte[] storeBytes(KeyStore store) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      store.store(out, password);
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot write PKCS12 store", e);
    }
    return out.toByteArray();
  }

  /** The certificate's common name (CN), or its whole subject when it has none: what names a node by its certificate. */
  public static String cnOf(X509Certificate c) {
    String dn = c.getSubjectX500Principal().getName();
    for (String part : dn.split(",")) {
      if (part.startsWith("CN=")) {
        return part.substring(3);
      }
    }
    return dn;
  }

  @Override
  public String toString() {
    return "NodeCredentials[" + nodeId + "]";
  }

}
