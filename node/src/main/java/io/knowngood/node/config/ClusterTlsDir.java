package io.knowngood.node.config;

import io.knowngood.crypto.meshca.NodeCredentials;
import io.knowngood.crypto.meshca.RevocationList;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.UnrecoverableKeyException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * What {@code --cluster-tls-dir} holds, checked as a peer would before the mesh starts, so that a
 * typo or a wrong file is reported with its cause rather than a bare file name: the three files
 * {@code kgctl mesh cert issue} writes are there and readable, {@code store.pass} opens both
 * stores, {@code node.p12} holds a key and its certificate, the certificate is valid now (by the
 * given clock) and issued by a CA in {@code truststore.p12}. The result is {@link Usable} (what the
 * log says when mesh TLS is on, plus warnings, and the stores as opened) or {@link Unusable} (one line:
 * the cause and the fix).
 */
public final class ClusterTlsDir {

    /** A certificate expiring sooner than this is warned about at every start. */
    static final Duration EXPIRY_WARNING = Duration.ofDays(30);

    private static final String ISSUE = "'kgctl mesh cert issue --ca CA_DIR --node-id ID --out DIR'";

    private ClusterTlsDir() {}

    /** The outcome of {@link #check}. */
    public sealed interface Check permits Usable, Unusable {
        /**
         * For a start that cannot go on without these credentials: the {@link Usable} result, or an IOException whose
         * message is the {@link Unusable} problem (cause and fix).
         */
        default Usable usableOrThrow() throws IOException {
            if (this instanceof Unusable u) {
                throw new IOException(u.problem());
            }
            return (Usable) this;
        }
    }

    /**
     * Credentials a peer would accept: the certificate's subject, serial number (hex), issuer and end of
     * validity; the CA's revocation list there, if any ({@code revocations}: "crl.pem number N: M revoked");
     * warnings to log; and the two stores as the check opened them ({@code credentials}, named by the
     * certificate's common name), for the mesh or the admin endpoint to use rather than read them again:
     * each JDK-made PKCS12 file costs a key derivation of 10,000 rounds to open.
     */
    public record Usable(Path dir, String subject, String serial, String issuer, Instant notAfter, Optional<String> revocations,
                         List<String> warnings, NodeCredentials credentials) implements Check {
        public Usable {
            warnings = List.copyOf(warnings);
        }

        /**
         * For the log: {@code certificate CN=host-17,O=knowngood serial 5f3a... issued by CN=..., expires 2027-... (from DIR)},
         * then {@code ; revocation list crl.pem number N: M certificates revoked} when there is one.
         */
        public String summary() {
            return "certificate " + subject + " serial " + serial + " issued by " + issuer + ", expires " + notAfter + " (from " + dir + ")"
                    + revocations.map(r -> "; revocation list " + r).orElse("");
        }
    }

    /** No mesh TLS from this directory; {@code problem} names the cause and how to fix it. */
    public record Unusable(String problem) implements Check {}

    /**
     * The mesh's directory ({@code --cluster-tls-dir}): the credentials, and the CA's revocation list when there is one. A
     * newer list kept in {@code keptList} (the newest the node has read, {@code <data-dir>/mesh-crl.pem}) stays in force
     * over an older {@code crl.pem}, as the mesh does.
     */
    public static Check check(Path dir, Optional<Path> keptList, String nodeId, Clock clock) {
        return check(dir, nodeId, clock, "--cluster-tls-dir", true, keptList);
    }

    /**
     * The credentials only, in the directory given with {@code flagName} (messages name that flag): the
     * admin endpoint's HTTPS has no use for the mesh's revocation list.
     */
    public static Check check(Path dir, String nodeId, Clock clock, String flagName) {
        return check(dir, nodeId, clock, flagName, false, Optional.empty());
    }

    private static Check check(Path dir, String nodeId, Clock clock, String flagName, boolean meshRevocations, Optional<Path> keptList) {
        String flag = flagName + " " + dir;
        if (!Files.exists(dir)) {
            return new Unusable(flag + ": no such directory (a typo? " + ISSUE + " writes "
                    + NodeCredentials.KEYSTORE_FILE + ", " + NodeCredentials.TRUSTSTORE_FILE + " and " + NodeCredentials.PASSWORD_FILE + " there)");
        }
        if (!Files.isDirectory(dir)) {
            return new Unusable(flag + ": not a directory (give the directory " + ISSUE + " wrote, not a file in it)");
        }
        for (String f : List.of(NodeCredentials.KEYSTORE_FILE, NodeCredentials.TRUSTSTORE_FILE, NodeCredentials.PASSWORD_FILE)) {
            if (!Files.exists(dir.resolve(f))) {
                return new Unusable(flag + ": " + f + " is missing (the directory holds " + listing(dir) + "; " + ISSUE + " writes "
                        + NodeCredentials.KEYSTORE_FILE + ", " + NodeCredentials.TRUSTSTORE_FILE + " and " + NodeCredentials.PASSWORD_FILE + ")");
            }
        }
        char[] password;
        try {
            password = Files.readString(dir.resolve(NodeCredentials.PASSWORD_FILE), StandardCharsets.UTF_8).strip().toCharArray();
        } catch (IOException e) {
            return new Unusable(flag + ": " + cannotRead(NodeCredentials.PASSWORD_FILE, e));
        }
        if (password.length == 0) {
            return new Unusable(flag + ": " + NodeCredentials.PASSWORD_FILE + " is empty (it holds the password of both stores)");
        }
        Opened keys = open(dir, NodeCredentials.KEYSTORE_FILE, password);
        Opened trust = keys.problem() != null ? keys : open(dir, NodeCredentials.TRUSTSTORE_FILE, password);
        if (trust.problem() != null) {
            return new Unusable(flag + ": " + trust.problem());
        }
        KeyStore keyStore = keys.store();
        KeyStore trustStore = trust.store();
        try {
            X509Certificate cert = nodeCertificate(keyStore);
            if (cert == null) {
                return new Unusable(flag + ": " + NodeCredentials.KEYSTORE_FILE + " holds no private key with an X.509 certificate (issue one with "
                        + ISSUE + ")");
            }
            List<X509Certificate> cas = NodeCredentials.trusted(trustStore);
            if (cas.isEmpty()) {
                return new Unusable(flag + ": " + NodeCredentials.TRUSTSTORE_FILE + " holds no CA certificate");
            }
            String subject = cert.getSubjectX500Principal().getName();
            Instant now = clock.instant();
            Instant notBefore = cert.getNotBefore().toInstant();
            Instant notAfter = cert.getNotAfter().toInstant();
            if (now.isAfter(notAfter)) {
                return new Unusable(flag + ": the certificate " + subject + " expired at " + notAfter + " (now " + now
                        + "): peers refuse it; issue a new one with " + ISSUE);
            }
            if (now.isBefore(notBefore)) {
                return new Unusable(flag + ": the certificate " + subject + " is valid only from " + notBefore + ", and this host's clock says "
                        + now + ": peers refuse it; is the clock right?");
            }
            X509Certificate issuer = NodeCredentials.issuerOf(cert, cas).orElse(null);
            if (issuer == null) {
                return new Unusable(flag + ": the certificate " + subject + " in " + NodeCredentials.KEYSTORE_FILE + " was not issued by the CA in "
                        + NodeCredentials.TRUSTSTORE_FILE + " (" + cas.stream().map(c -> c.getSubjectX500Principal().getName())
                        .collect(Collectors.joining("; ")) + "): peers would refuse it; issue both from the one mesh CA with " + ISSUE);
            }
            Optional<String> revocations = Optional.empty();
            if (meshRevocations) {
                RevocationList.Read read = RevocationList.read(dir.resolve(RevocationList.FILE), issuer);
                if (read instanceof RevocationList.Invalid bad) {
                    return new Unusable(flag + ": " + RevocationList.FILE + " is not a revocation list signed by this mesh's CA: " + bad.reason()
                            + " (put there the " + RevocationList.FILE + " that 'kgctl mesh cert revoke' wrote in the CA's directory, or remove it)");
                }
                Optional<RevocationList> inFile = read instanceof RevocationList.Valid v ? Optional.of(v.list()) : Optional.empty();
                Optional<RevocationList> kept = keptList.map(k -> RevocationList.read(k, issuer))
                        .filter(RevocationList.Valid.class::isInstance).map(k -> ((RevocationList.Valid) k).list());
                Optional<RevocationList> inForce = Stream.of(inFile, kept).flatMap(Optional::stream).max(Comparator.comparing(RevocationList::number));
                if (inForce.isPresent()) {
                    RevocationList list = inForce.get();
                    String where = inFile.filter(f -> f.number().equals(list.number())).isPresent()
                            ? RevocationList.FILE + " number " + list.number()
                            : "number " + list.number() + " kept in " + keptList.get() + ", the newest this node has seen"
                                    + inFile.map(f -> " (" + RevocationList.FILE + " holds the older number " + f.number() + ")").orElse("");
                    Optional<Instant> revokedAt = list.revokedAt(cert);
                    if (revokedAt.isPresent()) {
                        return new Unusable(flag + ": this node's certificate " + subject + " (serial " + RevocationList.hex(cert.getSerialNumber())
                                + ") was revoked at " + revokedAt.get() + " by the mesh CA's revocation list (" + where
                                + "): peers refuse it; if this host is to stay in the mesh, issue it a new one with " + ISSUE);
                    }
                    revocations = Optional.of(where + ": " + list.size() + (list.size() == 1 ? " certificate" : " certificates") + " revoked");
                }
            }
            List<String> warnings = new ArrayList<>();
            String name = NodeCredentials.cnOf(cert);
            if (!nodeId.equals(name)) {
                warnings.add("the mesh certificate is for " + subject + " but this node's id is " + nodeId
                        + " (another host's directory copied here? issue this host's with --node-id " + nodeId + ")");
            }
            if (Duration.between(now, notAfter).compareTo(EXPIRY_WARNING) < 0) {
                warnings.add("the mesh certificate " + subject + " expires at " + notAfter + ", in less than " + EXPIRY_WARNING.toDays()
                        + " days: peers refuse it from then on; issue a new one with " + ISSUE);
            }
            return new Usable(dir, subject, RevocationList.hex(cert.getSerialNumber()), issuer.getSubjectX500Principal().getName(), notAfter,
                    revocations, warnings, NodeCredentials.of(name, keyStore, trustStore, password));
        } catch (GeneralSecurityException e) {
            return new Unusable(flag + ": cannot read the certificates" + detail(e));
        }
    }

    /** A store, or (store null) why it cannot be opened. */
    private record Opened(KeyStore store, String problem) {}

    private static Opened open(Path dir, String name, char[] password) {
        try {
            return new Opened(NodeCredentials.loadStore(dir.resolve(name), password), null);
        } catch (IOException e) {
            if (e.getCause() instanceof UnrecoverableKeyException) {
                return new Opened(null, NodeCredentials.PASSWORD_FILE + " does not open " + name + " (wrong password: were "
                        + NodeCredentials.PASSWORD_FILE + " and " + name + " issued together, by one " + ISSUE + "?)");
            }
            if (e instanceof AccessDeniedException || Files.isDirectory(dir.resolve(name))) {
                return new Opened(null, cannotRead(name, e));
            }
            if (e.getCause() instanceof GeneralSecurityException g) { // loadStore's wrapping
                return new Opened(null, name + " is not a readable PKCS12 store" + detail(g));
            }
            return new Opened(null, name + " is not a readable PKCS12 store (damaged, or another format)" + detail(e));
        }
    }

    /** ": " and the exception's message, or nothing when it has none (the JDK's PKCS12 reader throws some without: ": null"). */
    private static String detail(Exception e) {
        return e.getMessage() == null || e.getMessage().isBlank() ? "" : ": " + e.getMessage();
    }

    private static String cannotRead(String name, IOException e) {
        if (e instanceof AccessDeniedException) {
            return "cannot read " + name + ": permission denied for user " + System.getProperty("user.name")
                    + " (kgnode runs as this user: chown the directory's files to it)";
        }
        return "cannot read " + name + ": " + e;
    }

    private static X509Certificate nodeCertificate(KeyStore ks) throws GeneralSecurityException {
        if (ks.isKeyEntry(NodeCredentials.ALIAS) && ks.getCertificate(NodeCredentials.ALIAS) instanceof X509Certificate c) {
            return c;
        }
        List<String> keys = new ArrayList<>();
        for (String alias : Collections.list(ks.aliases())) {
            if (ks.isKeyEntry(alias)) {
                keys.add(alias);
            }
        }
        return keys.size() == 1 && ks.getCertificate(keys.get(0)) instanceof X509Certificate c ? c : null;
    }

    private static String listing(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            List<String> names = s.map(p -> p.getFileName().toString()).sorted().limit(10).collect(Collectors.toList());
            return names.isEmpty() ? "nothing" : String.join(", ", names);
        } catch (IOException e) {
            return "files that cannot be listed (" + e.getMessage() + ")";
        }
    }
}
