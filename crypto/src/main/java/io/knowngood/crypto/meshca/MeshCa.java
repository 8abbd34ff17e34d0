package io.knowngood.crypto.meshca;

import io.knowngood.crypto.files.AtomicFile;
import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.security.cert.X509CRL;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.bouncycastle.asn1.x509.CRLNumber;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.cert.jcajce.JcaX509CRLConverter;
import org.bouncycastle.cert.jcajce.JcaX509v2CRLBuilder;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The mesh certificate authority: an ECDSA P-256 key and a self-signed certificate that issue the
 * TLS certificates cluster members present to each other (client auth required both ways). A host
 * without a certificate from this CA cannot join the mesh or read its traffic.
 *
 * <p>On disk a CA is a directory with {@code ca.key} (PKCS#8 PEM, owner-only) and {@code ca.crt}
 * (PEM). Everything also works in memory ({@link #generate(Clock)}, {@link #issue(String)}) so tests
 * never write keys anywhere but a temp dir. Keep {@code ca.key} off the nodes: only the machine that
 * issues node certificates needs it.
 */
public final class MeshCa {

  /** File names inside a CA directory. */
  public static final String CA_KEY = "ca.key";
  public static final String CA_CERT = "ca.crt";
  /**
   * The folder of a CA directory where {@link #issue(Path, String, List, Path)} keeps a copy of each
   * certificate it issued ({@code SERIAL.crt}, PEM, no key), so {@code kgctl mesh cert revoke --node-id}
   * can find a node's serial numbers.
   */
  public static final String ISSUED_DIR = "issued";

  static final Duration CA_VALIDITY = Duration.ofDays(3650);
  static final Duration NODE_VALIDITY = Duration.ofDays(825);
  private static final Pattern NODE_ID = Pattern.compile("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$");
  private static final SecureRandom RANDOM = new SecureRandom();

  private final PrivateKey key;
  private final X509Certificate certificate;
  private final Clock clock;

  private MeshCa(PrivateKey key, X509Certificate certificate, Clock clock) {
    this.key = key;
    this.certificate = certificate;
    this.clock = clock;
  }

  /** A new CA held in memory only. */
  public static MeshCa generate(Clock clock) {
    KeyPair pair = newP256KeyPair();
    Instant now = clock.instant();
    X500Name subject = name("knowngood mesh CA " + Long.toHexString(RANDOM.nextLong()));
    try {
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, serial(),
          Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(CA_VALIDITY)), subject, pair.getPublic());
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pair.getPublic()));
      return new MeshCa(pair.getPrivate(), sign(b, pair.getPrivate()), clock);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot create mesh CA certificate", e);
    }
  }

  /** Creates a CA in {@code dir} (created if missing); refuses to overwrite an existing CA. */
  public static MeshCa init(Path dir) throws IOException {
    return init(dir, Clock.systemUTC());
  }

  public static MeshCa init(Path dir, Clock clock) throws IOException {
    Files.createDirectories(dir);
    if (Files.exists(dir.resolve(CA_KEY)) || Files.exists(dir.resolve(CA_CERT))) {
      throw new IOException("a mesh CA already exists in " + dir + " (refusing to overwrite)");
    }
    MeshCa ca = generate(clock);
    ca.writeTo(dir);
    return ca;
  }

  /** Loads the CA written by {@link #init(Path)}. */
  public static MeshCa load(Path dir) throws IOException {
    return load(dir, Clock.systemUTC());
  }

  public static MeshCa load(Path dir, Clock clock) throws IOException {
    PrivateKey key;
    try (Reader r = Files.newBufferedReader(dir.resolve(CA_KEY)); PEMParser p = new PEMParser(r)) {
      Object o = p.readObject();
      if (!(o instanceof PrivateKeyInfo info)) {
        throw new IOException(dir.resolve(CA_KEY) + " is not a PKCS#8 private key");
      }
      key = new JcaPEMKeyConverter().getPrivateKey(info);
    }
    return new MeshCa(key, readCertificate(dir.resolve(CA_CERT)), clock);
  }

  /**
   * Issues credentials for {@code nodeId} from the CA in {@code caDir} and writes them to {@code outDir}
   * (see {@link NodeCredentials#writeTo(Path)} for the file names). Returns them as well.
   */
  public static NodeCredentials issue(Path caDir, String nodeId, Path outDir) throws IOException {
    return issue(caDir, nodeId, List.of(), outDir);
  }

  /** As {@link #issue(Path, String, Path)}, the certificate also naming {@code ips} (subjectAltName), for HTTPS clients that check them. */
  public static NodeCredentials issue(Path caDir, String nodeId, List<InetAddress> ips, Path outDir) throws IOException {
    NodeCredentials c = load(caDir).issue(nodeId, ips);
    c.writeTo(outDir);
    Path issued = caDir.resolve(ISSUED_DIR);
    Files.createDirectories(issued);
    AtomicFile.write(issued.resolve(RevocationList.hex(c.certificate().getSerialNumber()) + ".crt"),
        toPem(c.certificate()).getBytes(StandardCharsets.US_ASCII));
    return c;
  }

  /** A certificate this CA issued, as kept under {@value #ISSUED_DIR} (or only its serial, when it was not kept). */
  public record Issued(BigInteger serial, Optional<String> nodeId, Optional<Instant> notAfter) {
    static Issued of(X509Certificate c) {
      return new Issued(c.getSerialNumber(), Optional.of(NodeCredentials.cnOf(c)), Optional.of(c.getNotAfter().toInstant()));
    }
  }

  /** What {@link #revoke} did. */
  public sealed interface Revocation permits Revoked, NoSuchCertificate, UnusableList {}

  /**
   * The list now in {@code file}: {@code added} are newly on it, {@code already} were on it before (when
   * everything asked for was, nothing was written and {@code list} is the one already there).
   */
  public record Revoked(RevocationList list, Path file, List<Issued> added, List<Issued> already) implements Revocation {}

  /** No certificate this CA issued (and kept under {@value #ISSUED_DIR}) names that node id. */
  public record NoSuchCertificate(String nodeId, Path issuedDir) implements Revocation {}

  /** The CA directory's {@value RevocationList#FILE} is there but no list of this CA's: nothing was written. */
  public record UnusableList(Path file, String reason) implements Revocation {}

  /**
   * Revokes every certificate issued to {@code nodeId} (as kept under {@value #ISSUED_DIR}) and the
   * certificates with the given serial numbers (issued before that folder was kept, read off a node's
   * log or {@code kgctl mesh cert issue}), adding them to the CA directory's {@value RevocationList#FILE}
   * (created when missing) with the CRL number raised by one.
   */
  public static Revocation revoke(Path caDir, Optional<String> nodeId, List<BigInteger> serials, Clock clock) throws IOException {
    MeshCa ca = load(caDir, clock);
    Path file = caDir.resolve(RevocationList.FILE);
    RevocationList previous = null;
    RevocationList.Read read = RevocationList.read(file, ca.certificate);
    if (read instanceof RevocationList.Invalid bad) {
      return new UnusableList(file, bad.reason());
    } else if (read instanceof RevocationList.Valid v) {
      previous = v.list();
    }
    Map<BigInteger, Issued> wanted = new LinkedHashMap<>();
    Map<BigInteger, Issued> kept = ca.issuedIn(caDir.resolve(ISSUED_DIR));
    if (nodeId.isPresent()) {
      kept.values().stream().filter(i -> i.nodeId().equals(nodeId)).forEach(i -> wanted.put(i.serial(), i));
      if (wanted.isEmpty()) {
        return new NoSuchCertificate(nodeId.get(), caDir.resolve(ISSUED_DIR));
      }
    }
    for (BigInteger s : serials) {
      wanted.putIfAbsent(s, kept.getOrDefault(s, new Issued(s, Optional.empty(), Optional.empty())));
    }
    List<Issued> added = new ArrayList<>();
    List<Issued> already = new ArrayList<>();
    for (Issued i : wanted.values()) {
      (previous != null && previous.names(i.serial()) ? already : added).add(i);
    }
    if (added.isEmpty() && previous != null) {
      return new Revoked(previous, file, List.of(), already);
    }
    RevocationList next = ca.revocationList(previous, added.stream().map(Issued::serial).toList());
    AtomicFile.write(file, next.pem().getBytes(StandardCharsets.US_ASCII));
    return new Revoked(next, file, added, already);
  }

  /** The certificates kept under {@code dir} that this CA signed, by serial number (a file that is none is skipped). */
  private Map<BigInteger, Issued> issuedIn(Path dir) throws IOException {
    Map<BigInteger, Issued> out = new TreeMap<>();
    if (!Files.isDirectory(dir)) {
      return out;
    }
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : (Iterable<Path>) files.filter(f -> f.getFileName().toString().endsWith(".crt")).sorted()::iterator) {
        try {
          X509Certificate c = readCertificate(f);
          c.verify(certificate.getPublicKey());
          out.put(c.getSerialNumber(), Issued.of(c));
        } catch (IOException | GeneralSecurityException e) {
          // not a certificate of this CA's: not one it can revoke by node id
        }
      }
    }
    return out;
  }

  /**
   * A new list: {@code previous}'s entries (none when null) and {@code serials}, revoked now, with the
   * CRL number one above {@code previous}'s.
   */
  public RevocationList revocationList(RevocationList previous, List<BigInteger> serials) {
    Instant now = clock.instant();
    try {
      JcaX509v2CRLBuilder b = new JcaX509v2CRLBuilder(certificate, Date.from(now));
      if (previous != null) {
        for (RevocationList.Entry e : previous.entries()) {
          b.addCRLEntry(e.serial(), Date.from(e.revokedAt()), CRLReason.unspecified);
        }
      }
      for (BigInteger s : serials) {
        if (previous == null || !previous.names(s)) {
          b.addCRLEntry(s, Date.from(now), CRLReason.unspecified);
        }
      }
      BigInteger number = previous == null ? BigInteger.ONE : previous.number().add(BigInteger.ONE);
      b.addExtension(Extension.cRLNumber, false, new CRLNumber(number));
      b.addExtension(Extension.authorityKeyIdentifier, false, new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(certificate));
      X509CRL crl = new JcaX509CRLConverter().getCRL(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key)));
      if (RevocationList.parse(crl.getEncoded(), certificate) instanceof RevocationList.Valid v) {
        return v.list();
      }
      throw new IllegalStateException("the revocation list just signed does not verify");
    } catch (IOException | GeneralSecurityException | OperatorCreationException e) {
      throw new IllegalStateException("cannot sign a revocation list", e);
    }
  }

  /** Issues a fresh P-256 key and a certificate (CN=nodeId, serverAuth + clientAuth) signed by this CA. */
  public NodeCredentials issue(String nodeId) {
    return issue(nodeId, List.of());
  }

  /**
   * As {@link #issue(String)}, the certificate also naming {@code ips} as subjectAltName IP addresses:
   * what an HTTPS client (kgctl against {@code --admin-tls-dir}) checks the address it dialled against.
   * The mesh itself identifies members by certificate, not by address, and ignores them.
   */
  public NodeCredentials issue(String nodeId, List<InetAddress> ips) {
    Objects.requireNonNull(nodeId, "nodeId");
    if (!NODE_ID.matcher(nodeId).matches()) {
      throw new IllegalArgumentException("node id must match " + NODE_ID.pattern() + ": " + nodeId);
    }
    KeyPair pair = newP256KeyPair();
    Instant now = clock.instant();
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(certificate, serial(),
          Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(NODE_VALIDITY)), name(nodeId), pair.getPublic());
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      b.addExtension(Extension.extendedKeyUsage, false,
          new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
      b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(certificate));
      b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pair.getPublic()));
      if (!ips.isEmpty()) {
        GeneralName[] names = ips.stream().map(ip -> new GeneralName(GeneralName.iPAddress, new DEROctetString(ip.getAddress())))
            .toArray(GeneralName[]::new);
        b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
      }
      X509Certificate cert = sign(b, key);
      return NodeCredentials.create(nodeId, pair.getPrivate(), cert, certificate, randomPassword());
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot issue certificate for " + nodeId, e);
    }
  }

  public X509Certificate certificate() {
    return certificate;
  }

  /** Writes {@code ca.key} (owner read/write only where the file system supports it) and {@code ca.crt}. */
  public void writeTo(Path dir) throws IOException {
    Files.createDirectories(dir);
    StringWriter keyPem = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(keyPem)) {
      w.writeObject(new JcaPKCS8Generator(key, null));
    }
    AtomicFile.writeOwnerOnly(dir.resolve(CA_KEY), keyPem.toString().getBytes(StandardCharsets.US_ASCII));
    AtomicFile.write(dir.resolve(CA_CERT), toPem(certificate).getBytes(StandardCharsets.US_ASCII));
  }

  /** A certificate, or a revocation list ({@link RevocationList#pem()}), as PEM. */
  static String toPem(Object certOrCrl) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      w.writeObject(certOrCrl);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  static X509Certificate readCertificate(Path file) throws IOException {
    try (Reader r = Files.newBufferedReader(file); PEMParser p = new PEMParser(r)) {
      Object o = p.readObject();
      if (!(o instanceof X509CertificateHolder holder)) {
        throw new IOException(file + " is not a PEM certificate");
      }
      return new JcaX509CertificateConverter().getCertificate(holder);
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot read certificate " + file, e);
    }
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey signer) throws GeneralSecurityException {
    try {
      return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer)));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException(e);
    }
  }

  static KeyPair newP256KeyPair() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("ECDSA P-256 is not available in this JVM", e);
    }
  }

  private static X500Name name(String cn) {
    return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "knowngood").addRDN(BCStyle.CN, cn).build();
  }

  private static BigInteger serial() {
    return new BigInteger(127, RANDOM).add(BigInteger.ONE);
  }

  private static char[] randomPassword() {
    byte[] b = new byte[18];
    RANDOM.nextBytes(b);
    return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(b).toCharArray();
  }
}
