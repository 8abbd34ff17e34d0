package io.knowngood.node.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.knowngood.crypto.meshca.MeshCa;
import io.knowngood.crypto.meshca.NodeCredentials;
import io.knowngood.crypto.meshca.RevocationList;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each way a --cluster-tls-dir can be unusable is named with its cause; a usable one says what the log will. */
class ClusterTlsDirTest {

    private static final String ISSUE = "'kgctl mesh cert issue --ca CA_DIR --node-id ID --out DIR'";

    @TempDir
    Path tmp;

    private final Clock clock = Clock.systemUTC();
    private final MeshCa ca = MeshCa.generate(clock);

    private Path issued(String nodeId) throws Exception {
        Path dir = tmp.resolve(nodeId);
        ca.issue(nodeId).writeTo(dir);
        return dir;
    }

    private static String problem(ClusterTlsDir.Check c) {
        assertThat(c).isInstanceOf(ClusterTlsDir.Unusable.class);
        return ((ClusterTlsDir.Unusable) c).problem();
    }

    @Test
    void issuedByKgctl_isUsable_andSaysWhatItIs() throws Exception {
        Path dir = issued("host-17");

        ClusterTlsDir.Check c = ClusterTlsDir.check(dir, Optional.empty(), "host-17", clock);

        assertThat(c).isInstanceOfSatisfying(ClusterTlsDir.Usable.class, u -> {
            assertThat(u.subject()).isEqualTo("CN=host-17,O=knowngood");
            assertThat(u.issuer()).isEqualTo(ca.certificate().getSubjectX500Principal().getName()).startsWith("CN=knowngood mesh CA ");
            assertThat(u.warnings()).isEmpty();
            assertThat(u.serial()).matches("[0-9a-f]+");
            assertThat(u.revocations()).isEmpty();
            assertThat(u.summary()).isEqualTo("certificate CN=host-17,O=knowngood serial " + u.serial() + " issued by " + u.issuer() + ", expires "
                    + u.notAfter() + " (from " + dir + ")");
            assertThat(u.notAfter()).isAfter(Instant.now().plus(Duration.ofDays(800)));
        });
    }

    @Test
    void aUsableDirectory_handsOverTheStoresItOpened_soNoOneReadsThemAgain() throws Exception {
        Path dir = issued("host-17");
        NodeCredentials onDisk = NodeCredentials.load(dir);

        ClusterTlsDir.Usable u = (ClusterTlsDir.Usable) ClusterTlsDir.check(dir, Optional.empty(), "host-17", clock);
        for (String f : List.of(NodeCredentials.KEYSTORE_FILE, NodeCredentials.TRUSTSTORE_FILE, NodeCredentials.PASSWORD_FILE)) {
            Files.delete(dir.resolve(f));
        }

        NodeCredentials held = u.credentials();
        assertThat(held.nodeId()).isEqualTo("host-17");
        assertThat(held.keyStore().getCertificate(NodeCredentials.ALIAS)).isEqualTo(onDisk.keyStore().getCertificate(NodeCredentials.ALIAS));
        assertThat(held.keyStore().getKey(NodeCredentials.ALIAS, held.password())).isEqualTo(onDisk.keyStore().getKey(NodeCredentials.ALIAS, onDisk.password()));
        assertThat(held.trustStore().getCertificate(NodeCredentials.CA_ALIAS)).isEqualTo(ca.certificate());
        assertThat(held.sslContext().getProtocol()).isEqualTo("TLSv1.3");
    }

    @Test
    void aStartThatNeedsTheCredentials_getsTheUsableResult_orAnIOExceptionWithTheProblem() throws Exception {
        ClusterTlsDir.Check ok = ClusterTlsDir.check(issued("host-17"), Optional.empty(), "host-17", clock);
        assertThat(ok.usableOrThrow()).isSameAs(ok);

        ClusterTlsDir.Check bad = ClusterTlsDir.check(tmp.resolve("mseh"), Optional.empty(), "host-17", clock);
        assertThatThrownBy(bad::usableOrThrow).isInstanceOf(IOException.class).hasMessage(problem(bad));
    }

    @Test
    void aTypo_saysNoSuchDirectory() {
        Path dir = tmp.resolve("mseh");
        assertThat(problem(ClusterTlsDir.check(dir, Optional.empty(), "n1", clock))).isEqualTo("--cluster-tls-dir " + dir
                + ": no such directory (a typo? " + ISSUE + " writes node.p12, truststore.p12 and store.pass there)");
    }

    @Test
    void aFileInsteadOfTheDirectory_saysSo() throws Exception {
        Path file = issued("n1").resolve("node.p12");
        assertThat(problem(ClusterTlsDir.check(file, Optional.empty(), "n1", clock))).isEqualTo("--cluster-tls-dir " + file
                + ": not a directory (give the directory " + ISSUE + " wrote, not a file in it)");
    }

    @Test
    void aMissingFile_isNamed_withWhatTheDirectoryHolds() throws Exception {
        Path dir = issued("n1");
        Files.delete(dir.resolve("store.pass"));
        assertThat(problem(ClusterTlsDir.check(dir, Optional.empty(), "n1", clock))).isEqualTo("--cluster-tls-dir " + dir
                + ": store.pass is missing (the directory holds node.p12, truststore.p12; " + ISSUE
                + " writes node.p12, truststore.p12 and store.pass)");
    }

    @Test
    void aWrongPassword_isNamedAsSuch() throws Exception {
        Path dir = issued("n1");
        Files.writeString(dir.resolve("store.pass"), "not-the-password\n");
        assertThat(problem(ClusterTlsDir.check(dir, Optional.empty(), "n1", clock))).isEqualTo("--cluster-tls-dir " + dir
                + ": store.pass does not open node.p12 (wrong password: were store.pass and node.p12 issued together, by one " + ISSUE + "?)");
    }

    @Test
    void aKeyStoreFromAnotherIssue_doesNotOpenWithThisPassword() throws Exception {
        Path dir = issued("n1");
        Files.copy(issued("n2").resolve("node.p12"), dir.resolve("node.p12"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertThat(problem(ClusterTlsDir.check(dir, Optional.empty(), "n1", clock))).startsWith("--cluster-tls-dir " + dir + ": store.pass does not open node.p12");
    }

    @Test
    void aDamagedKeyStore_saysItIsNotAPkcs12Store() throws Exception {
        Path dir = issued("n1");
        // a truncated PEM where the PKCS12 store should be (no key material; the marker is built so that
        // no tracked file looks like it holds a private key)
        String pem = "PRIVATE KEY-----";
        Files.writeString(dir.resolve("node.p12"), "-----BEGIN " + pem + "\nMIGH...\n-----END " + pem + "\n");
        assertThat(problem(ClusterTlsDir.check(dir, Optional.empty(), "n1", clock)))
                .startsWith("--cluster-tls-dir " + dir + ": node.p12 is not a readable PKCS12 store (damaged, or another format): ");
    }

    @Test
    void aKeyStoreOfGarbage_endsTheSentence_withoutNull() throws Exception {
        Path dir = issued("n1");
        Files.writeString(dir.resolve("node.p12"), "garbage\n");
        // before: "... (damaged, or another format): null", the JDK's reader throwing without a message
        assertThat(problem(ClusterTlsDir.check(dir, Optional.empty(), "n1", clock)))
                .isEqualTo("--cluster-tls-dir " + dir + ": node.p12 is not a readable PKCS12 store (damaged, or another format)");
    }

    @Test
    void anUnreadableKeyStore_saysItCannotBeRead() throws Exception {
        Path dir = issued("n1");
        Files.delete(dir.resolve("truststore.p12"));
        Files.createDirectory(dir.resolve("truststore.p12"));
        assertThat(problem(ClusterTlsDir.check(dir, Optional.empty(), "n1", clock))).startsWith("--cluster-tls-dir " + dir + ": cannot read truststore.p12: ");
    }

    @Test
    void anEmptyPasswordFile_saysSo() throws Exception {
        Path dir = issued("n1");
        Files.writeString(dir.resolve("store.pass"), "\n");
        assertThat(problem(ClusterTlsDir.check(dir, Optional.empty(), "n1", clock))).isEqualTo("--cluster-tls-dir " + dir
                + ": store.pass is empty (it holds the password of both stores)");
    }

    @Test
    void anExpiredCertificate_isRefused_withItsDate() throws Exception {
        Path dir = issued("n1");
        Clock later = Clock.fixed(Instant.now().plus(Duration.ofDays(900)), ZoneOffset.UTC);
        assertThat(problem(ClusterTlsDir.check(dir, Optional.empty(), "n1", later))).startsWith("--cluster-tls-dir " + dir + ": the certificate CN=n1,O=knowngood expired at ")
                .endsWith("): peers refuse it; issue a new one with " + ISSUE);
    }

    @Test
    void aCertificateNotYetValid_asksAboutTheClock() throws Exception {
        Path dir = issued("n1");
        Clock earlier = Clock.fixed(Instant.now().minus(Duration.ofDays(2)), ZoneOffset.UTC);
        assertThat(problem(ClusterTlsDir.check(dir, Optional.empty(), "n1", earlier))).startsWith("--cluster-tls-dir " + dir + ": the certificate CN=n1,O=knowngood is valid only from ")
                .endsWith(": peers refuse it; is the clock right?");
    }

    @Test
    void aCertificateFromAnotherCa_isRefused() throws Exception {
        NodeCredentials mine = ca.issue("n1");
        char[] pw = mine.password();
        MeshCa other = MeshCa.generate(clock);
        Path dir = tmp.resolve("mixed");
        NodeCredentials.create("n1", (PrivateKey) mine.keyStore().getKey(NodeCredentials.ALIAS, pw), mine.certificate(), other.certificate(), pw)
                .writeTo(dir);

        assertThat(problem(ClusterTlsDir.check(dir, Optional.empty(), "n1", clock))).isEqualTo("--cluster-tls-dir " + dir
                + ": the certificate CN=n1,O=knowngood in node.p12 was not issued by the CA in truststore.p12 ("
                + other.certificate().getSubjectX500Principal().getName() + "): peers would refuse it; issue both from the one mesh CA with " + ISSUE);
    }

    @Test
    void anotherNodesCertificate_orOneAboutToExpire_isUsable_withWarnings() throws Exception {
        Path dir = issued("host-17");
        ClusterTlsDir.Usable u = (ClusterTlsDir.Usable) ClusterTlsDir.check(dir, Optional.empty(), "host-17", clock);
        Clock nearEnd = Clock.fixed(u.notAfter().minus(Duration.ofDays(10)), ZoneOffset.UTC);

        ClusterTlsDir.Check c = ClusterTlsDir.check(dir, Optional.empty(), "host-18", nearEnd);

        assertThat(c).isInstanceOfSatisfying(ClusterTlsDir.Usable.class, w -> assertThat(w.warnings()).isEqualTo(List.of(
                "the mesh certificate is for CN=host-17,O=knowngood but this node's id is host-18 (another host's directory copied here? "
                        + "issue this host's with --node-id host-18)",
                "the mesh certificate CN=host-17,O=knowngood expires at " + u.notAfter() + ", in less than 30 days: peers refuse it from then on; issue a new one with " + ISSUE)));
    }

    @Test
    void aRevocationListNamingOthers_isUsable_andSummedUpInTheLogLine() throws Exception {
        Path dir = issued("host-17");
        Files.writeString(dir.resolve(RevocationList.FILE), ca.revocationList(null, List.of(ca.issue("gone").certificate().getSerialNumber())).pem());

        ClusterTlsDir.Usable u = (ClusterTlsDir.Usable) ClusterTlsDir.check(dir, Optional.empty(), "host-17", clock);

        assertThat(u.revocations()).contains("crl.pem number 1: 1 certificate revoked");
        assertThat(u.summary()).endsWith(" (from " + dir + "); revocation list crl.pem number 1: 1 certificate revoked");
        // the admin endpoint's check has no use for it
        assertThat(((ClusterTlsDir.Usable) ClusterTlsDir.check(dir, "host-17", clock, "--admin-tls-dir")).revocations()).isEmpty();
    }

    @Test
    void aRevocationListNamingThisNode_isUnusable_saysWhen() throws Exception {
        Path dir = issued("host-17");
        NodeCredentials mine = NodeCredentials.load(dir);
        Files.writeString(dir.resolve(RevocationList.FILE), ca.revocationList(null, List.of(mine.certificate().getSerialNumber())).pem());

        assertThat(problem(ClusterTlsDir.check(dir, Optional.empty(), "host-17", clock))).startsWith("--cluster-tls-dir " + dir
                + ": this node's certificate CN=host-17,O=knowngood (serial " + RevocationList.hex(mine.certificate().getSerialNumber())
                + ") was revoked at ").contains("by the mesh CA's revocation list (crl.pem number 1): peers refuse it");
    }

    @Test
    void aNewerListKeptInTheDataDir_staysInForceOverAnOlderCrlPem_orNone() throws Exception {
        Path dir = issued("host-17");
        NodeCredentials mine = NodeCredentials.load(dir);
        RevocationList first = ca.revocationList(null, List.of(ca.issue("gone").certificate().getSerialNumber()));
        RevocationList second = ca.revocationList(first, List.of(ca.issue("gone-too").certificate().getSerialNumber()));
        Path kept = tmp.resolve("data-mesh-crl.pem");
        Files.writeString(dir.resolve(RevocationList.FILE), first.pem());
        Files.writeString(kept, second.pem());

        ClusterTlsDir.Usable u = (ClusterTlsDir.Usable) ClusterTlsDir.check(dir, Optional.of(kept), "host-17", clock);
        assertThat(u.revocations()).contains("number 2 kept in " + kept + ", the newest this node has seen (crl.pem holds the older number 1):"
                + " 2 certificates revoked");

        Files.writeString(dir.resolve(RevocationList.FILE), ca.revocationList(second, List.of()).pem()); // number 3: crl.pem wins again
        u = (ClusterTlsDir.Usable) ClusterTlsDir.check(dir, Optional.of(kept), "host-17", clock);
        assertThat(u.revocations()).contains("crl.pem number 3: 2 certificates revoked");

        Files.writeString(dir.resolve(RevocationList.FILE), first.pem());
        Files.writeString(kept, ca.revocationList(second, List.of(mine.certificate().getSerialNumber())).pem()); // the kept list names this node
        assertThat(problem(ClusterTlsDir.check(dir, Optional.of(kept), "host-17", clock))).contains("was revoked at ")
                .contains("by the mesh CA's revocation list (number 3 kept in " + kept);

        Files.delete(dir.resolve(RevocationList.FILE)); // no crl.pem: the kept list is still in force (no list is taken back)
        assertThat(problem(ClusterTlsDir.check(dir, Optional.of(kept), "host-17", clock)))
                .contains("by the mesh CA's revocation list (number 3 kept in " + kept + ", the newest this node has seen): peers refuse it");
        Files.delete(kept);
        assertThat(((ClusterTlsDir.Usable) ClusterTlsDir.check(dir, Optional.of(kept), "host-17", clock)).revocations()).isEmpty();
    }

    @Test
    void aRevocationListNotFromThisCa_orDamaged_isUnusable() throws Exception {
        Path dir = issued("host-17");
        Files.writeString(dir.resolve(RevocationList.FILE), MeshCa.generate(clock).revocationList(null, List.of()).pem());

        assertThat(problem(ClusterTlsDir.check(dir, Optional.empty(), "host-17", clock))).startsWith("--cluster-tls-dir " + dir
                + ": crl.pem is not a revocation list signed by this mesh's CA: it was issued by ").endsWith(
                "(put there the crl.pem that 'kgctl mesh cert revoke' wrote in the CA's directory, or remove it)");

        Files.writeString(dir.resolve(RevocationList.FILE), "garbage");
        assertThat(problem(ClusterTlsDir.check(dir, Optional.empty(), "host-17", clock))).contains("crl.pem is not a revocation list signed by this mesh's CA: it is not");
    }
}
