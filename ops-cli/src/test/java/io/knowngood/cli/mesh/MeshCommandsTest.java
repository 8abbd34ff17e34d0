package io.knowngood.cli.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.knowngood.cli.KgctlRunner;
import io.knowngood.cli.KgctlRunner.Run;
import io.knowngood.crypto.meshca.MeshCa;
import io.knowngood.crypto.meshca.NodeCredentials;
import io.knowngood.crypto.meshca.RevocationList;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
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
}
