package io.knowngood.cli.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.knowngood.cli.KgctlRunner;
import io.knowngood.cli.KgctlRunner.Run;
import io.knowngood.cli.bundle.BundleFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** kgctl publish against a real node over loopback HTTP (node's TestNode, in process). */
class PublishCommandTest {
    @TempDir
    Path dir;

    private OnlineFixture f;

    @BeforeEach
    void setUp() throws Exception {
        f = new OnlineFixture(dir);
    }

    @AfterEach
    void tearDown() {
        f.close();
    }

    @Test
    void publish_reportsVersionAndMembersHolding() throws Exception {
        Path archive = f.bundles.pack("desktop-base", 1);

        Run r = f.admin("publish", archive.toString());

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out().strip()).isEqualTo("published desktop-base version 1 via " + f.admin() + ": 1 of 1 members hold it");
        assertThat(r.err()).isEmpty();
    }

    @Test
    void publish_json_hasStableFields() throws Exception {
        Run r = f.admin("publish", f.bundles.pack("a", 3).toString(), "-o", "json");

        JsonNode n = new ObjectMapper().readTree(r.out());
        assertThat(n.get("name").asText()).isEqualTo("a");
        assertThat(n.get("version").asLong()).isEqualTo(3);
        assertThat(n.get("node").asText()).isEqualTo(f.admin());
        assertThat(n.get("membersHolding").asInt()).isEqualTo(1);
        assertThat(n.get("complete").asBoolean()).isTrue();
        assertThat(n.get("alreadyHeld").asBoolean()).isFalse();
        assertThat(n.get("attempts").get(0).get("outcome").asText()).isEqualTo("stored");
    }

    @Test
    void publish_sameBundleTwice_isAlreadyHeld_exit0() {
        Path archive = f.bundles.pack("a", 1);
        f.admin("publish", archive.toString());

        Run r = f.admin("publish", archive.toString());

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("already held");
    }

    @Test
    void publish_olderVersion_isRejectedAsRollback_exit1() {
        f.publish("a", 5);
        Path older = f.bundles.pack("a", 4);

        Run r = f.admin("publish", older.toString());

        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.errLine()).startsWith("kgctl publish: rejected by " + f.admin() + ": rollback: ");
    }

    @Test
    void publish_tamperedBundle_isRejectedWithReason_exit1() throws Exception {
        Path tampered = BundleFixture.tamper(f.bundles.pack("a", 1), "hello", "jello");

        Run r = f.admin("publish", tampered.toString());

        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.errLine()).startsWith("kgctl publish: rejected by " + f.admin() + ": hash_mismatch: ");
    }

    @Test
    void publish_wrongToken_exit5() throws Exception {
        Files.writeString(f.tokenFile, "wrong\n");

        Run r = f.admin("publish", f.bundles.pack("a", 1).toString());

        assertThat(r.exitCode()).isEqualTo(5);
        assertThat(r.errLine()).isEqualTo("kgctl publish: " + f.admin() + ": unauthorized: HTTP 401 unauthorized: "
                + "missing or wrong bearer token (check --token-file)");
    }

    @Test
    void publish_nodeDown_exit4() throws Exception {
        Run r = f.kgctl.run("publish", f.bundles.pack("a", 1).toString(), "--node", OnlineFixture.deadUrl(),
                "--token-file", f.tokenFile.toString());

        assertThat(r.exitCode()).isEqualTo(4);
        assertThat(r.errLine()).startsWith("kgctl publish: http://127.0.0.1:").contains("unreachable: ").doesNotContain("\n");
    }

    @Test
    void publish_firstNodeDown_triesTheNext() throws Exception {
        String dead = OnlineFixture.deadUrl();

        Run r = f.kgctl.run("publish", f.bundles.pack("a", 1).toString(), "--node", dead, "--node", f.admin(),
                "--token-file", f.tokenFile.toString());

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.errLine()).isEqualTo("kgctl publish: " + dead + ": unreachable: connection refused");
        assertThat(r.out()).contains("published a version 1 via " + f.admin());
    }

    @Test
    void publish_allNodesDown_exit4WithOneLinePerNode() throws Exception {
        Run r = f.kgctl.run("publish", f.bundles.pack("a", 1).toString(), "--node", OnlineFixture.deadUrl() + "," + OnlineFixture.deadUrl(),
                "--token-file", f.tokenFile.toString());

        assertThat(r.exitCode()).isEqualTo(4);
        assertThat(r.err().lines()).hasSize(3).last().isEqualTo("kgctl publish: no node reachable (2 tried)");
    }

    @Test
    void publish_nodeFails_exit6() throws Exception {
        try (CannedNode failing = CannedNode.storeUnavailable()) {
            Run r = f.kgctl.run("publish", f.bundles.pack("a", 1).toString(), "--node", failing.url().toString(),
                    "--token-file", f.tokenFile.toString());

            assertThat(r.exitCode()).isEqualTo(6);
            assertThat(r.errLine()).contains("HTTP 503 store_unavailable");
            assertThat(failing.requests()).isEqualTo(1);
        }
    }

    @Test
    void publish_failingNodeFirst_triesTheNext() throws Exception {
        try (CannedNode failing = CannedNode.storeUnavailable()) {
            Run r = f.kgctl.run("publish", f.bundles.pack("a", 1).toString(), "--node", failing.url() + "," + f.admin(),
                    "--token-file", f.tokenFile.toString());

            assertThat(r.exitCode()).as(r.err()).isZero();
            assertThat(r.errLine()).isEqualTo("kgctl publish: " + failing.url() + ": node error: HTTP 503 store_unavailable: "
                    + "could not store the bundle durably: disk full");
            assertThat(f.node.node.store().current("a")).isPresent();
        }
    }

    @Test
    void publish_takesNodeAndTokenFileFromEnvironment() {
        KgctlRunner withEnv = new KgctlRunner(Map.of("KGCTL_NODE", f.admin(), "KGCTL_TOKEN_FILE", f.tokenFile.toString()));

        Run r = withEnv.run("publish", f.bundles.pack("a", 1).toString());

        assertThat(r.exitCode()).as(r.err()).isZero();
    }

    @Test
    void publish_withoutNode_exit2_withoutTokenFile_exit2_missingTokenFile_exit3() {
        String archive = f.bundles.pack("a", 1).toString();

        Run noNode = f.kgctl.run("publish", archive, "--token-file", f.tokenFile.toString());
        Run noToken = f.kgctl.run("publish", archive, "--node", f.admin());
        Run missingToken = f.kgctl.run("publish", archive, "--node", f.admin(), "--token-file", dir.resolve("none").toString());
        Run badUrl = f.kgctl.run("publish", archive, "--node", "10.0.0.5:8781", "--token-file", f.tokenFile.toString());

        assertThat(noNode.exitCode()).isEqualTo(2);
        assertThat(noNode.errLine()).contains("no node given: give --node URL or set KGCTL_NODE");
        assertThat(noToken.exitCode()).isEqualTo(2);
        assertThat(missingToken.exitCode()).isEqualTo(3);
        assertThat(badUrl.exitCode()).isEqualTo(2);
    }

    @Test
    void publish_missingArchive_exit3_garbageArchive_exit1() throws Exception {
        Run missing = f.admin("publish", dir.resolve("none.tar").toString());
        Run garbage = f.admin("publish", Files.writeString(dir.resolve("g.tar"), "garbage").toString());

        assertThat(missing.exitCode()).isEqualTo(3);
        assertThat(garbage.exitCode()).isEqualTo(1);
        assertThat(f.puts()).isZero();
    }

    @Test
    void publish_aDirectoryAsArchiveTokenFileOrCa_exit3NamingIt() throws Exception {
        String archive = f.bundles.pack("a", 1).toString();
        Path folder = Files.createDirectories(dir.resolve("folder"));

        Run asArchive = f.admin("publish", folder.toString());
        Run asToken = f.kgctl.run("publish", archive, "--node", f.admin(), "--token-file", folder.toString());
        Run asCa = f.kgctl.run("status", "--node", "https://127.0.0.1:1", "--token-file", f.tokenFile.toString(), "--ca", folder.toString());

        // before: "kgctl publish: Is a directory", no path; --ca: "not a PEM certificate: java.io.IOException: Is a directory"
        assertThat(asArchive.exitCode()).isEqualTo(3);
        assertThat(asArchive.errLine()).isEqualTo("kgctl publish: is a directory: " + folder);
        assertThat(asToken.exitCode()).isEqualTo(3);
        assertThat(asToken.errLine()).isEqualTo("kgctl publish: is a directory: " + folder);
        assertThat(asCa.exitCode()).isEqualTo(3);
        assertThat(asCa.errLine()).isEqualTo("kgctl status: --ca " + folder + ": is a directory (expected the mesh CA's ca.crt, from 'kgctl mesh ca init')");
        assertThat(f.puts()).isZero();
    }

    @Test
    void aCaFileThatIsAKeyOrNotPem_exit3SayingWhatItHolds() throws Exception {
        Path garbage = Files.writeString(dir.resolve("garbage.crt"), "garbage\n");
        String[] base = {"status", "--node", "https://127.0.0.1:1", "--token-file", f.tokenFile.toString(), "--ca"};

        Run key = f.kgctl.run(base, f.bundles.pub.toString());
        Run notPem = f.kgctl.run(base, garbage.toString());

        // before: "not a PEM certificate: Unable to initialize, java.io.IOException: Too short"
        assertThat(key.exitCode()).isEqualTo(3);
        assertThat(key.errLine()).isEqualTo("kgctl status: --ca " + f.bundles.pub + ": not a PEM certificate (it holds a PEM \"PUBLIC KEY\"; "
                + "give the mesh CA's ca.crt, from 'kgctl mesh ca init')");
        assertThat(notPem.exitCode()).isEqualTo(3);
        assertThat(notPem.errLine()).isEqualTo("kgctl status: --ca " + garbage + ": not a PEM certificate (expected the mesh CA's ca.crt, "
                + "from 'kgctl mesh ca init')");
    }
}
