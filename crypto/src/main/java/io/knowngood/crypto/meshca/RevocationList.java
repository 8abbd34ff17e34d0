package io.knowngood.crypto.meshca;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CRLException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509CRLEntry;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.x509.Extension;

/**
 * The mesh CA's list of revoked node certificates: a standard X.509 v2 CRL in PEM ({@value #FILE}), signed
 * by the CA key, written by {@code kgctl mesh cert revoke} and read by each node from its
 * {@code --cluster-tls-dir}. A node refuses a TLS handshake with a peer whose certificate the list names,
 * and closes the connections it already has to such a peer.
 *
 * <p>Only a list this CA signed counts: {@link #parse} answers {@link Invalid} for anything else (not PEM,
 * not a CRL, another issuer, a bad signature, too large), so a damaged or foreign file never changes what a
 * node accepts. The list is complete as of {@link #thisUpdate()} and has no next-update date: the mesh has
 * no distribution point to fetch a fresh one from, so an old list stays in force until a newer one replaces
 * it ({@link #number()} counts the lists the CA has written).
 */
public final class RevocationList {
  /** The file name, in a CA directory and in a node's TLS directory. */
  public static final String FILE = "crl.pem";
  /** Largest file read: about 10,000 entries. */
  public static final int MAX_BYTES = 1 << 20;

  /** One revoked certificate: its serial number and when the CA revoked it. */
  public record Entry(BigInteger serial, Instant revokedAt) {}

  /** What reading a list gave. */
  public sealed interface Read permits Valid, Invalid, Absent {}

  /** A list signed by the CA. */
  public record Valid(RevocationList list) implements Read {}

  /** A file that is no list of this CA's, and why (in words). */
  public record Invalid(String reason) implements Read {}

  /** No such file: nothing is revoked. */
  public record Absent() implements Read {}

  private final X509CRL crl;
  private final BigInteger number;
  private final Map<BigInteger, Instant> revoked;

  private RevocationList(X509CRL crl, BigInteger number, Map<BigInteger, Instant> revoked) {
    this.crl = crl;
    this.number = number;
    this.revoked = Collections.unmodifiableMap(revoked);
  }

  /** Reads {@code file}: {@link Absent} when there is none, else as {@link #parse}. */
  public static Read read(Path file, X509Certificate ca) {
    try {
      long size = Files.size(file);
      if (size > MAX_BYTES) {
        return new Invalid(file + " is " + size + " bytes, over the " + MAX_BYTES + " a revocation list may have");
      }
      return parse(Files.readAllBytes(file), ca);
    } catch (NoSuchFileException e) {
      return new Absent();
    } catch (IOException e) {
      return new Invalid("cannot read " + file + ": " + e);
    }
  }

  /** A CRL (PEM or DER) that {@code ca} issued and signed, or why not. */
  public static Read parse(byte[] bytes, X509Certificate ca) {
    if (bytes.length > MAX_BYTES) {
      return new Invalid("it is " + bytes.length + " bytes, over the " + MAX_BYTES + " a revocation list may have");
    }
    X509CRL crl;
    try (InputStream in = new ByteArrayInputStream(bytes)) {
      crl = (X509CRL) CertificateFactory.getInstance("X.509").generateCRL(in);
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      return new Invalid("it is not a certificate revocation list (" + e.getMessage() + ")");
    }
    if (crl == null) {
      return new Invalid("it is empty: not a certificate revocation list");
    }
    if (!crl.getIssuerX500Principal().equals(ca.getSubjectX500Principal())) {
      return new Invalid("it was issued by " + crl.getIssuerX500Principal().getName() + ", not by this mesh's CA ("
          + ca.getSubjectX500Principal().getName() + ")");
    }
    try {
      crl.verify(ca.getPublicKey());
    } catch (GeneralSecurityException | RuntimeException e) {
      return new Invalid("its signature is not this mesh CA's (" + e.getClass().getSimpleName() + "): a damaged or forged list");
    }
    Map<BigInteger, Instant> revoked = new TreeMap<>();
    if (crl.getRevokedCertificates() != null) {
      for (X509CRLEntry e : crl.getRevokedCertificates()) {
        if (e.getCertificateIssuer() != null && !e.getCertificateIssuer().equals(ca.getSubjectX500Principal())) {
          continue; // an indirect entry for another issuer's certificate: not one of this mesh's
        }
        revoked.put(e.getSerialNumber(), e.getRevocationDate().toInstant());
      }
    }
    return new Valid(new RevocationList(crl, crlNumber(crl), revoked));
  }

  /** When the certificate was revoked, if this list names it (same issuer, same serial). */
  public Optional<Instant> revokedAt(X509Certificate cert) {
    if (cert == null || !cert.getIssuerX500Principal().equals(crl.getIssuerX500Principal())) {
      return Optional.empty();
    }
    return Optional.ofNullable(revoked.get(cert.getSerialNumber()));
  }

  /** True if this list names the serial. */
  public boolean names(BigInteger serial) {
    return revoked.containsKey(serial);
  }

  /** The entries, by serial number. */
  public List<Entry> entries() {
    List<Entry> out = new ArrayList<>();
    revoked.forEach((s, at) -> out.add(new Entry(s, at)));
    out.sort(Comparator.comparing(Entry::revokedAt).thenComparing(Entry::serial));
    return out;
  }

  public int size() {
    return revoked.size();
  }

  /** The CRL number: 1 for the CA's first list, one more for each later one (0 when the list carries none). */
  public BigInteger number() {
    return number;
  }

  /** When the CA wrote this list. */
  public Instant thisUpdate() {
    return crl.getThisUpdate().toInstant();
  }

  X509CRL crl() {
    return crl;
  }

  /** The list as PEM, as written to {@value #FILE}. */
  public String pem() {
    return MeshCa.toPem(crl);
  }

  /** The list as DER, the CA's signed bytes (what {@link #parse} reads back); how the mesh passes it between members. */
  public byte[] encoded() {
    try {
      return crl.getEncoded();
    } catch (CRLException e) {
      throw new IllegalStateException("a parsed CRL that cannot be encoded again", e);
    }
  }

  /** A serial number as kgctl and the logs write it: lower-case hex. */
  public static String hex(BigInteger serial) {
    return serial.toString(16);
  }

  private static BigInteger crlNumber(X509CRL crl) {
    byte[] ext = crl.getExtensionValue(Extension.cRLNumber.getId());
    if (ext == null) {
      return BigInteger.ZERO;
    }
    try {
      ASN1Primitive inner = ASN1Primitive.fromByteArray(DEROctetString.getInstance(ext).getOctets());
      return ASN1Integer.getInstance(inner).getValue();
    } catch (IOException | RuntimeException e) {
      return BigInteger.ZERO;
    }
  }

  @Override
  public String toString() {
    return "RevocationList[number " + number + ", " + revoked.size() + " revoked, of " + thisUpdate() + "]";
  }
}
