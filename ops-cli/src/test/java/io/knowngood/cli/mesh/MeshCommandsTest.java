package io.knowngood.cli.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.knowngood.cli.KgctlRunner;
import io.knowngood.cli.KgctlRunner.Run;
import io.knowngood.crypto.meshca.MeshCa;
import io.knowngood.crypto.meshca.NodeCredentials;
import io.knowngood.crypto.meshca.RevocationList;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MeshCommandsTest {
    @TempDir
    Path dir;

    private final KgctlRunner kgctl = new KgctlRunner();

    @Test
    void caInit_thenCertIssue_givesCredentialsSignedByTheCa() throws Exception {
        Path ca = dir.resolve("ca");
        Path creds = dir.resolve("host-17");

        Run init = kgctl.run("mesh", "ca", "init", "--out", ca.toString());
        Run issue = kgctl.run("mesh", "cert", "issue", "--ca", ca.toString(), "--node-id", "host-17",
                "--out", creds.toString(), "--output", "json");

        assertThat(init.exitCode()).as(init.err()).isZero();
        assertThat(init.out()).contains("mesh CA:", "keep it offline");
        assertThat(issue.exitCode()).as(issue.err()).isZero();
        JsonNode n = new ObjectMapper().readTree(issue.out());
        assertThat(n.get("nodeId").asText()).isEqualTo("host-17");
        assertThat(n.get("clusterTlsDir").asText()).isEqualTo(creds.toAbsolutePath().toString());
        NodeCredentials loaded = NodeCredentials.load(creds);
        X509Certificate caCert = MeshCa.load(ca).certificate();
        loaded.certificate().verify(caCert.getPublicKey());
        assertThat(loaded.certificate().getSubjectX500Principal().getName()).contains("CN=host-17");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(ca.resolve(MeshCa.CA_KEY)))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(creds.resolve(NodeCredentials.PASSWORD_FILE))))
                .isEqualTo("rw-------");
    }

    @Test
    void certIssue_tellsHowToStartKgnode_withTheFlagKgnodeReads() {
        Path ca = dir.resolve("ca");
        Path creds = dir.resolve("host-17");
        assertThat(kgctl.run("mesh", "ca", "init", "--out", ca.toString()).exitCode()).isZero();

        Run issue = kgctl.run("mesh", "cert", "issue", "--ca", ca.toString(), "--node-id", "host-17", "--out", creds.toString());

        assertThat(issue.exitCode()).as(issue.err()).isZero();
        // chaos-tests' MeshTlsFlagsTest starts real kgnodes with exactly this line
        assertThat(issue.out()).contains("  start kgnode with: --node-id host-17 --cluster-tls-dir " + creds.toAbsolutePath() + "\n")
                .contains("cluster-tls-dir: " + creds.toAbsolutePath())
                .doesNotContain("--cluster-keystore", "--cluster-truststore", "--cluster-password-file");
    }

    @Test
    void certIssue_withIp_namesTheAddressesInTheCertificate_andRefusesNames() throws Exception {
        Path ca = dir.resolve("ca");
        Path creds = dir.resolve("host-17");
        assertThat(kgctl.run("mesh", "ca", "init", "--out", ca.toString()).exitCode()).isZero();

        Run issue = kgctl.run("mesh", "cert", "issue", "--ca", ca.toString(), "--node-id", "host-17", "--ip", "10.0.0.17",
                "--ip", "[fd00::17]", "--out", creds.toString());

        assertThat(issue.exitCode()).as(issue.err()).isZero();
        assertThat(issue.out()).contains("also usable as --admin-tls-dir " + creds.toAbsolutePath());
        assertThat(NodeCredentials.load(creds).certificate().getSubjectAlternativeNames())
                .extracting(l -> l.get(1).toString()).containsExactly("10.0.0.17", "fd00:0:0:0:0:0:0:17");

        Run named = kgctl.run("mesh", "cert", "issue", "--ca", ca.toString(), "--node-id", "host-18", "--ip", "admin.example.org",
                "--out", dir.resolve("host-18").toString());
        assertThat(named.exitCode()).isEqualTo(2);
        assertThat(named.err()).contains("--ip takes an IP literal without zone (got \"admin.example.org\")");
        assertThat(dir.resolve("host-18")).doesNotExist();
    }

    @Test
    void caInit_neverOverwritesAnExistingCa_exits3() throws Exception {
        Path ca = dir.resolve("ca");
        assertThat(kgctl.run("mesh", "ca", "init", "--out", ca.toString()).exitCode()).isZero();
        byte[] before = Files.readAllBytes(ca.resolve(MeshCa.CA_KEY));

        Run again = kgctl.run("mesh", "ca", "init", "--out", ca.toString());

        assertThat(again.exitCode()).isEqualTo(3);
        assertThat(again.errLine()).startsWith("kgctl mesh ca init: ").contains("already exists");
        assertThat(Files.readAllBytes(ca.resolve(MeshCa.CA_KEY))).isEqualTo(before);
    }

    @Test
    void certIssue_badNodeId_exits2_andWritesNothing() throws Exception {
        Path ca = dir.resolve("ca");
        assertThat(kgctl.run("mesh", "ca", "init", "--out", ca.toString()).exitCode()).isZero();

        Run r = kgctl.run("mesh", "cert", "issue", "--ca", ca.toString(), "--node-id", "../evil", "--out", dir.resolve("x").toString());

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.errLine()).contains("--node-id must match");
        assertThat(dir.resolve("x")).doesNotExist();
    }

    @Test
    void certIssue_withoutCa_exits3_withAHint() {
        Run r = kgctl.run("mesh", "cert", "issue", "--ca", dir.resolve("none").toString(), "--node-id", "n1",
                "--out", dir.resolve("x").toString());

        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.errLine()).contains("kgctl mesh ca init");
    }

    @Test
    void aFileWhereADirectoryBelongs_exits3SayingSo_andChangesNothing() throws Exception {
        Path ca = dir.resolve("ca");
        assertThat(kgctl.run("mesh", "ca", "init", "--out", ca.toString()).exitCode()).isZero();
        Path file = Files.writeString(dir.resolve("a-file"), "keep me");

        Run caInit = kgctl.run("mesh", "ca", "init", "--out", file.toString());
        Run caIsAFile = kgctl.run("mesh", "cert", "issue", "--ca", file.toString(), "--node-id", "n1", "--out", dir.resolve("n1").toString());
        Run outIsAFile = kgctl.run("mesh", "cert", "issue", "--ca", ca.toString(), "--node-id", "n1", "--out", file.toString());

        // before: "already exists: FILE" and "no such file or directory: FILE/ca.key"
        assertThat(caInit.exitCode()).isEqualTo(3);
        assertThat(caInit.errLine()).isEqualTo("kgctl mesh ca init: --out " + file + ": not a directory (the directory ca.key and ca.crt are written into)");
        assertThat(caIsAFile.exitCode()).isEqualTo(3);
        assertThat(caIsAFile.errLine()).isEqualTo("kgctl mesh cert issue: --ca " + file
                + ": not a directory (the CA's directory, holding ca.key and ca.crt, from 'kgctl mesh ca init')");
        assertThat(outIsAFile.exitCode()).isEqualTo(3);
        assertThat(outIsAFile.errLine()).startsWith("kgctl mesh cert issue: --out " + file + ": not a directory (");
        assertThat(Files.readString(file)).isEqualTo("keep me");
        assertThat(dir.resolve("n1")).doesNotExist();
    }

    @Test
    void certIssue_printsTheSerialNumber_inTheFirstLineAndTheJson() throws Exception {
        Path ca = dir.resolve("ca");
        assertThat(kgctl.run("mesh", "ca", "init", "--out", ca.toString()).exitCode()).isZero();

        Run text = kgctl.run("mesh", "cert", "issue", "--ca", ca.toString(), "--node-id", "host-17", "--out", dir.resolve("host-17").toString());
        Run json = kgctl.run("mesh", "cert", "issue", "--ca", ca.toString(), "--node-id", "host-18", "--out", dir.resolve("host-18").toString(),
                "--output", "json");

        assertThat(text.exitCode()).as(text.err()).isZero();
        X509Certificate c17 = NodeCredentials.load(dir.resolve("host-17")).certificate();
        assertThat(text.out().lines().findFirst().orElseThrow()).isEqualTo("node host-17: certificate serial "
                + RevocationList.hex(c17.getSerialNumber()) + ", sha256 " + MeshCaInit.fingerprint(c17.getEncoded()) + ", valid until "
                + c17.getNotAfter().toInstant());
        assertThat(json.exitCode()).as(json.err()).isZero();
        assertThat(new ObjectMapper().readTree(json.out()).get("serial").asText())
                .isEqualTo(RevocationList.hex(NodeCredentials.load(dir.resolve("host-18")).certificate().getSerialNumber()));
    }

    @Test
    void certRevoke_byNodeId_writesAListSignedByTheCa_namingExactlyThatNodesCertificate() throws Exception {
        Path ca = caWithNodes("host-3", "host-4");
        X509Certificate host3 = certificateOf("host-3");

        Run r = kgctl.run("mesh", "cert", "revoke", "--ca", ca.toString(), "--node-id", "host-3");

        assertThat(r.exitCode()).as(r.err()).isZero();
        Path crl = ca.toAbsolutePath().resolve(RevocationList.FILE);
        RevocationList list = validList(ca);
        assertThat(list.number()).isEqualTo(BigInteger.ONE);
        assertThat(list.entries()).extracting(RevocationList.Entry::serial).containsExactly(host3.getSerialNumber());
        assertThat(list.revokedAt(certificateOf("host-4"))).isEmpty();
        assertThat(r.out()).startsWith("revoked host-3: serial " + RevocationList.hex(host3.getSerialNumber()) + ", was valid until "
                        + host3.getNotAfter().toInstant() + "\n")
                .contains("\nwrote " + crl + ": list number 1, 1 certificate revoked\n")
                .contains("copy crl.pem into any one node's --cluster-tls-dir", "with sites, one node in each site", "readable by the user kgnode runs as: the mesh carries it to the others",
                        "refuses the revoked certificates and closes its connections to them");
        assertThat(r.err()).isEmpty();
    }

    @Test
    void certRevoke_again_exits0_sayingAlreadyRevoked_andLeavesTheFileByteIdentical() throws Exception {
        Path ca = caWithNodes("host-3");
        assertThat(kgctl.run("mesh", "cert", "revoke", "--ca", ca.toString(), "--node-id", "host-3").exitCode()).isZero();
        byte[] before = Files.readAllBytes(ca.resolve(RevocationList.FILE));
        String serial = RevocationList.hex(certificateOf("host-3").getSerialNumber());

        Run again = kgctl.run("mesh", "cert", "revoke", "--ca", ca.toString(), "--node-id", "host-3", "--serial", serial);

        assertThat(again.exitCode()).as(again.err()).isZero();
        assertThat(again.out()).startsWith("already revoked host-3: serial " + serial + ", was valid until ")
                .contains("nothing new to revoke: " + ca.toAbsolutePath().resolve(RevocationList.FILE)
                        + " unchanged (list number 1, 1 certificate revoked)")
                .doesNotContain("\nrevoked ", "wrote ");
        assertThat(Files.readAllBytes(ca.resolve(RevocationList.FILE))).isEqualTo(before);
    }

    @Test
    void certRevoke_aSecondNode_raisesTheListNumberTo2_andKeepsTheFirst() throws Exception {
        Path ca = caWithNodes("host-3", "host-4");
        assertThat(kgctl.run("mesh", "cert", "revoke", "--ca", ca.toString(), "--node-id", "host-3").exitCode()).isZero();

        Run r = kgctl.run("mesh", "cert", "revoke", "--ca", ca.toString(), "--node-id", "host-4");

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("list number 2, 2 certificates revoked").doesNotContain("already revoked");
        RevocationList list = validList(ca);
        assertThat(list.number()).isEqualTo(BigInteger.TWO);
        assertThat(list.entries()).extracting(RevocationList.Entry::serial)
                .containsExactlyInAnyOrder(certificateOf("host-3").getSerialNumber(), certificateOf("host-4").getSerialNumber());
    }

    @Test
    void certRevoke_anUnknownNodeId_exits7_pointingAtSerial_andWritesNothing() throws Exception {
        Path ca = caWithNodes("host-3");

        Run r = kgctl.run("mesh", "cert", "revoke", "--ca", ca.toString(), "--node-id", "host-9");

        assertThat(r.exitCode()).isEqualTo(7);
        assertThat(r.out()).isEmpty();
        assertThat(r.errLine()).startsWith("kgctl mesh cert revoke: no certificate issued to node host-9 is kept in "
                        + ca.toAbsolutePath().resolve(MeshCa.ISSUED_DIR) + " ")
                .contains("must be revoked with --serial HEX", "'mesh TLS on: certificate CN=host-9,O=knowngood serial HEX ...'");
        assertThat(ca.resolve(RevocationList.FILE)).doesNotExist();
    }

    @Test
    void certRevoke_badSerialOrNodeIdOrNeither_exits2_andWritesNothing() throws Exception {
        Path ca = caWithNodes("host-3");
        String[] revoke = {"mesh", "cert", "revoke", "--ca", ca.toString()};

        for (String bad : List.of("xyz", "12:zz", "0x1f", ":1f", "1f:", "", "0", "00:00", "1" + "0".repeat(40))) {
            Run r = kgctl.run(revoke, "--node-id", "host-3", "--serial", bad);
            assertThat(r.exitCode()).as("--serial \"%s\": %s", bad, r.err()).isEqualTo(2);
            assertThat(r.errLine()).as(bad).startsWith("kgctl mesh cert revoke: --serial ").contains("hex");
        }
        Run neither = kgctl.run(revoke);
        Run badId = kgctl.run(revoke, "--node-id", "../host-3");

        assertThat(neither.exitCode()).isEqualTo(2);
        assertThat(neither.errLine()).contains("--node-id ID, --serial HEX, or both");
        assertThat(badId.exitCode()).isEqualTo(2);
        assertThat(badId.errLine()).contains("--node-id must match");
        assertThat(ca.resolve(RevocationList.FILE)).doesNotExist();
    }

    @Test
    void certRevoke_bySerial_revokesACertificateKgctlKeptNoCopyOf_inOpensslsSpelling() throws Exception {
        Path ca = caWithNodes("host-3");
        // issued in memory: as a certificate from before kgctl kept copies under issued/
        X509Certificate old = MeshCa.load(ca).issue("host-1").certificate();
        String hex = RevocationList.hex(old.getSerialNumber());
        String openssl = colons(hex.toUpperCase(Locale.ROOT));

        Run r = kgctl.run("mesh", "cert", "revoke", "--ca", ca.toString(), "--serial", openssl);

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("revoked ?: serial " + hex + " (serial only: no copy under "
                + ca.toAbsolutePath().resolve(MeshCa.ISSUED_DIR) + ", so its node id and expiry are unknown)\n");
        RevocationList list = validList(ca);
        assertThat(list.revokedAt(old)).isPresent();
        assertThat(list.entries()).extracting(RevocationList.Entry::serial).containsExactly(old.getSerialNumber());
    }

    @Test
    void certRevoke_json_namesTheListAndEachCertificate_nullWhereUnknown() throws Exception {
        Path ca = caWithNodes("host-3");
        X509Certificate host3 = certificateOf("host-3");
        BigInteger old = MeshCa.load(ca).issue("host-1").certificate().getSerialNumber();
        ObjectMapper json = new ObjectMapper();

        Run first = kgctl.run("mesh", "cert", "revoke", "--ca", ca.toString(), "--node-id", "host-3", "--serial",
                RevocationList.hex(old), "--output", "json");
        Run second = kgctl.run("mesh", "cert", "revoke", "--ca", ca.toString(), "--node-id", "host-3", "-o", "json");

        assertThat(first.exitCode()).as(first.err()).isZero();
        JsonNode n = json.readTree(first.out());
        assertThat(n.get("crlFile").asText()).isEqualTo(ca.toAbsolutePath().resolve(RevocationList.FILE).toString());
        assertThat(n.get("number").isIntegralNumber()).isTrue();
        assertThat(n.get("number").asInt()).isEqualTo(1);
        assertThat(n.get("thisUpdate").asText()).isEqualTo(KgctlRunner.CLOCK.instant().toString());
        assertThat(n.get("entries").asInt()).isEqualTo(2);
        assertThat(n.get("revoked")).hasSize(2);
        JsonNode kept = n.get("revoked").get(0);
        assertThat(kept.get("serial").asText()).isEqualTo(RevocationList.hex(host3.getSerialNumber()));
        assertThat(kept.get("nodeId").asText()).isEqualTo("host-3");
        assertThat(kept.get("notAfter").asText()).isEqualTo(host3.getNotAfter().toInstant().toString());
        JsonNode unkept = n.get("revoked").get(1);
        assertThat(unkept.get("serial").asText()).isEqualTo(RevocationList.hex(old));
        assertThat(unkept.get("nodeId").isNull()).isTrue();
        assertThat(unkept.get("notAfter").isNull()).isTrue();
        assertThat(n.get("alreadyRevoked")).isEmpty();
        assertThat(second.exitCode()).as(second.err()).isZero();
        JsonNode m = json.readTree(second.out());
        assertThat(m.get("revoked")).isEmpty();
        assertThat(m.get("alreadyRevoked")).hasSize(1);
        assertThat(m.get("alreadyRevoked").get(0).get("nodeId").asText()).isEqualTo("host-3");
        assertThat(m.get("number").asInt()).isEqualTo(1);
    }

    @Test
    void certRevoke_aCrlPemThatIsNoListOfThisCa_exits3_andIsLeftAsItIs() throws Exception {
        Path ca = caWithNodes("host-3");
        Path crl = ca.resolve(RevocationList.FILE);
        String foreign = MeshCa.generate(KgctlRunner.CLOCK).revocationList(null, List.of(BigInteger.TEN)).pem();

        for (String content : List.of("not a list\n", foreign)) {
            Files.writeString(crl, content, StandardCharsets.US_ASCII);

            Run r = kgctl.run("mesh", "cert", "revoke", "--ca", ca.toString(), "--node-id", "host-3");

            assertThat(r.exitCode()).as(r.err()).isEqualTo(3);
            assertThat(r.errLine()).startsWith("kgctl mesh cert revoke: cannot use " + ca.toAbsolutePath().resolve(RevocationList.FILE) + ": ")
                    .contains("left it as it is");
            assertThat(Files.readString(crl, StandardCharsets.US_ASCII)).isEqualTo(content);
        }
    }

    @Test
    void certRevoke_withoutCa_exits3_withAHint() throws Exception {
        Path empty = Files.createDirectories(dir.resolve("empty"));

        Run missing = kgctl.run("mesh", "cert", "revoke", "--ca", dir.resolve("none").toString(), "--node-id", "host-3");
        Run noKey = kgctl.run("mesh", "cert", "revoke", "--ca", empty.toString(), "--serial", "1f");

        assertThat(missing.exitCode()).isEqualTo(3);
        assertThat(missing.errLine()).contains("kgctl mesh ca init");
        assertThat(noKey.exitCode()).isEqualTo(3);
        assertThat(noKey.errLine()).contains(empty.resolve(MeshCa.CA_KEY).toString(), "kgctl mesh ca init");
        assertThat(empty.resolve(RevocationList.FILE)).doesNotExist();
    }

    @Test
    void certHelp_listsRevoke() {
        Run r = kgctl.run("mesh", "cert", "--help");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("revoke", "issue");
    }

    private Path caWithNodes(String... nodeIds) {
        Path ca = dir.resolve("ca");
        assertThat(kgctl.run("mesh", "ca", "init", "--out", ca.toString()).exitCode()).isZero();
        for (String id : nodeIds) {
            Run r = kgctl.run("mesh", "cert", "issue", "--ca", ca.toString(), "--node-id", id, "--out", dir.resolve(id).toString());
            assertThat(r.exitCode()).as(r.err()).isZero();
        }
        return ca;
    }

    private X509Certificate certificateOf(String nodeId) throws Exception {
        return NodeCredentials.load(dir.resolve(nodeId)).certificate();
    }

    private RevocationList validList(Path ca) throws Exception {
        RevocationList.Read read = RevocationList.read(ca.resolve(RevocationList.FILE), MeshCa.load(ca).certificate());
        assertThat(read).isInstanceOf(RevocationList.Valid.class);
        return ((RevocationList.Valid) read).list();
    }

    /** "AB:CD:..." as openssl prints a serial (an odd length gets a leading 0). */
    private static String colons(String hex) {
        String even = hex.length() % 2 == 0 ? hex : "0" + hex;
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < even.length(); i += 2) {
            b.append(i == 0 ? "" : ":").append(even, i, i + 2);
        }
        return b.toString();
    }
}
