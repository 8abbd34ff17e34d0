package io.knowngood.cli.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.knowngood.api.ClusterView;
import io.knowngood.cli.KgctlRunner;
import io.knowngood.cli.KgctlRunner.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** status, audit, bundles list/show/history/diff, watch, retire, completion against a real node (in process). */
class ReadCommandsTest {
    @TempDir
    Path dir;

    private OnlineFixture f;
    private final ObjectMapper json = new ObjectMapper();

    @BeforeEach
    void setUp() throws Exception {
        f = new OnlineFixture(dir);
    }

    @AfterEach
    void tearDown() {
        f.close();
    }

    @Test
    void status_ofARealNode_showsItselfAloneWithWhatItHolds() throws Exception {
        f.publish("a", 2);

        Run r = f.admin("status");
        JsonNode n = json.readTree(f.admin("status", "-o", "json").out());

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("node test-node at " + f.admin() + ": state ", "partitioned: no, in touch: no, "
                + "last contact with peers: never", "coordinator: test-node, members in view: 1");
        String keyId = io.knowngood.crypto.bundle.KeyId.of(io.knowngood.crypto.bundle.Ed25519Keys.readPublicPem(f.bundles.pub)).hex();
        assertThat(r.out().lines().toList().get(2)).isEqualTo("publisher keys trusted: 1 (" + keyId.substring(0, 16) + ")");
        assertThat(r.out().lines().toList().get(4)).startsWith("test-node").contains("self,coordinator  1");
        assertThat(n.get("trustedKeys").get(0).asText()).isEqualTo(keyId);
        assertThat(n.get("members").get(0).get("trustedKeys").get(0).asText()).isEqualTo(keyId);
        assertThat(n.get("members").get(0).get("versions").get("a").get("version").asLong()).isEqualTo(2);
        assertThat(n.get("members").get(0).get("versions").get("a").get("manifestDigest").asText())
                .isEqualTo(f.node.node.store().current("a").orElseThrow().manifestDigest());
    }

    @Test
    void status_saysWhichServedVersionsHaveExpired() throws Exception {
        f.publish("a", 1);
        assertThat(f.admin("status").out()).doesNotContain("EXPIRED");
        // kgctl's clock is 2026-11-25T10:00Z, the node's is the real one: an hour after kgctl's now has passed for the node
        Path archive = f.bundles.dir.resolve("a-2-expiring.tar");
        KgctlRunner.Run packed = f.kgctl.run("bundle", "pack", f.bundles.src.toString(), "--name", "a", "--version", "2",
                "--key", f.bundles.key.toString(), "--expires", "1h", "--out", archive.toString());
        assertThat(packed.exitCode()).as(packed.err()).isZero();
        assertThat(f.admin("publish", archive.toString()).exitCode()).isZero();

        Run r = f.admin("status");
        JsonNode n = json.readTree(f.admin("status", "-o", "json").out());

        assertThat(r.out()).contains("EXPIRED (still served, the last known good; publish a fresh version): a");
        assertThat(n.get("expired").get(0).asText()).isEqualTo("a");
    }

    @Test
    void status_ofAPartitionedMesh_showsMembersRolesAndWhoDiffers() throws Exception {
        ClusterView partitioned = new ClusterView("n1", "PARTITIONED", "n2", true, false, "2026-11-25T09:59:00Z", List.of(
                new ClusterView.Member("n1", "10.0.0.1:7800", true, Map.of("a", new ClusterView.Held(2, "aa"))),
                new ClusterView.Member("n2", "10.0.0.2:7800", false, Map.of("a", new ClusterView.Held(2, "aa"))),
                new ClusterView.Member("n3", "10.0.0.3:7800", false, Map.of("a", new ClusterView.Held(1, "bb")), true)));
        try (CannedNode mesh = CannedNode.clusterView(partitioned)) {
            String url = mesh.url().toString();

            Run r = f.kgctl.run("status", "--node", url, "--token-file", f.tokenFile.toString());
            JsonNode n = json.readTree(f.kgctl.run("status", "--node", url, "--token-file", f.tokenFile.toString(), "-o", "json").out());

            assertThat(r.exitCode()).as(r.err()).isZero();
            assertThat(r.out()).contains("node n1 at " + url + ": state PARTITIONED, partitioned: YES, in touch: no, "
                    + "last contact with peers: 2026-11-25T09:59:00Z", "coordinator: n2, members in view: 3");
            List<String> lines = r.out().lines().toList();
            assertThat(lines.get(2)).startsWith("MEMBER");
            assertThat(lines.get(3)).startsWith("n1").contains("self");
            assertThat(lines.get(4)).startsWith("n2").contains("coordinator").endsWith("same as self");
            assertThat(lines.get(5)).startsWith("n3").contains("member,SILENT").endsWith("DIFFERS");
            assertThat(lines.get(4)).doesNotContain("SILENT");
            assertThat(n.get("state").asText()).isEqualTo("PARTITIONED");
            assertThat(n.get("members").get(2).get("versions").get("a").get("version").asLong()).isEqualTo(1);
            assertThat(n.get("members").get(2).get("silent").asBoolean()).isTrue();
            assertThat(n.get("members").get(1).get("silent").asBoolean()).isFalse();
            assertThat(n.get("members").get(0).get("versionsDigest").asText()).isEqualTo(n.get("selfVersionsDigest").asText());
        }
    }

    @Test
    void status_ofANodeWithMeshTls_saysWhichRevocationListIsInForce() throws Exception {
        ClusterView withList = new ClusterView("n1", "CLUSTERED", "n1", false, true, "2026-12-06T12:00:00Z", List.of(
                new ClusterView.Member("n1", "10.0.0.1:7800", true, Map.of(), false, 3L),
                new ClusterView.Member("n2", "10.0.0.2:7800", false, Map.of(), false, 3L),
                new ClusterView.Member("n3", "10.0.0.3:7800", false, Map.of(), false, 1L),
                new ClusterView.Member("n4", "10.0.0.4:7800", false, Map.of(), false, 0L),
                new ClusterView.Member("n5", "10.0.0.5:7800", false, Map.of())), List.of(), null, List.of(),
                new ClusterView.RevocationList(3, 2, "2026-12-06T11:35:50Z", "it is not a list signed by this mesh's CA"));
        try (CannedNode mesh = CannedNode.clusterView(withList)) {
            String url = mesh.url().toString();

            Run r = f.kgctl.run("status", "--node", url, "--token-file", f.tokenFile.toString());
            JsonNode n = json.readTree(f.kgctl.run("status", "--node", url, "--token-file", f.tokenFile.toString(), "-o", "json").out());

            assertThat(r.exitCode()).as(r.err()).isZero();
            assertThat(r.out()).contains("\nmesh revocation list: number 3, 2 certificates revoked (written 2026-12-06T11:35:50Z); "
                    + "other lists: n3 (number 1), n4 (none); crl.pem NOT USED: it is not a list signed by this mesh's CA\n");
            assertThat(n.get("revocationList").get("number").asLong()).isEqualTo(3);
            assertThat(n.get("members").get(2).get("revocationList").asLong()).isEqualTo(1);
            assertThat(n.get("members").get(4).get("revocationList").isNull()).as("not known: left out of the comparison").isTrue();
        }
        assertThat(StatusCommand.revocations(new ClusterView.RevocationList(0, 0, null, null))).isEqualTo("mesh revocation list: none");
        assertThat(StatusCommand.revocations(new ClusterView.RevocationList(1, 1, "2026-12-06T11:35:50Z", null)))
                .isEqualTo("mesh revocation list: number 1, 1 certificate revoked (written 2026-12-06T11:35:50Z)");
        List<StatusCommand.Member> same = List.of(new StatusCommand.Member("n1", "a", true, true, false, 0, "-", Map.of(), 1L, null),
                new StatusCommand.Member("n2", "b", false, false, false, 0, "-", Map.of(), 1L, null));
        assertThat(StatusCommand.revocations(new ClusterView.RevocationList(1, 1, "2026-12-06T11:35:50Z", null), same))
                .isEqualTo("mesh revocation list: number 1, 1 certificate revoked (written 2026-12-06T11:35:50Z); the same on every member in view");
    }

    @Test
    void status_saysWhichPublisherKeysTheNodeTrusts_andWhichMembersTrustOthers() throws Exception {
        String oldKey = "3f2a4b5c6d7e8f90" + "0".repeat(48);
        String newKey = "91bc0123456789ab" + "1".repeat(48);
        List<String> both = List.of(oldKey, newKey);
        ClusterView rotating = new ClusterView("n1", "CLUSTERED", "n1", false, true, "2026-12-06T12:00:00Z", List.of(
                new ClusterView.Member("n1", "10.0.0.1:7800", true, Map.of(), false, null, both),
                new ClusterView.Member("n2", "10.0.0.2:7800", false, Map.of(), false, null, both),
                new ClusterView.Member("n3", "10.0.0.3:7800", false, Map.of(), false, null, List.of(oldKey)),
                new ClusterView.Member("n4", "10.0.0.4:7800", false, Map.of(), false, null, List.of()),
                new ClusterView.Member("n5", "10.0.0.5:7800", false, Map.of())), List.of(), null, List.of(), null, both);
        try (CannedNode mesh = CannedNode.clusterView(rotating)) {
            String url = mesh.url().toString();

            Run r = f.kgctl.run("status", "--node", url, "--token-file", f.tokenFile.toString());
            JsonNode n = json.readTree(f.kgctl.run("status", "--node", url, "--token-file", f.tokenFile.toString(), "-o", "json").out());

            assertThat(r.exitCode()).as(r.err()).isZero();
            assertThat(r.out()).contains("\npublisher keys trusted: 2 (3f2a4b5c6d7e8f90, 91bc0123456789ab); "
                    + "other keys: n3 (3f2a4b5c6d7e8f90), n4 (none)\n");
            assertThat(n.get("trustedKeys").get(1).asText()).isEqualTo(newKey);
            assertThat(n.get("members").get(2).get("trustedKeys").get(0).asText()).isEqualTo(oldKey);
            assertThat(n.get("members").get(4).get("trustedKeys").isNull()).as("not known: left out of the comparison").isTrue();
        }
        List<StatusCommand.Member> same = List.of(new StatusCommand.Member("n1", "a", true, true, false, 0, "-", Map.of(), null, both),
                new StatusCommand.Member("n2", "b", false, false, false, 0, "-", Map.of(), null, both));
        assertThat(StatusCommand.trustedKeys(both, same))
                .isEqualTo("publisher keys trusted: 2 (3f2a4b5c6d7e8f90, 91bc0123456789ab); the same on every member in view");
        assertThat(StatusCommand.trustedKeys(List.of(), List.of())).isEqualTo("publisher keys trusted: none (every bundle is refused)");
    }

    @Test
    void status_ofAMeshWhereTwoMembersShareAnId_marksOnlyTheNodeItselfSelf() throws Exception {
        // the node marks itself; the other member with its id (another host, the later to join) is not self
        ClusterView twins = new ClusterView("n1", "CLUSTERED", "n1", false, true, "2026-11-25T10:00:00Z", List.of(
                new ClusterView.Member("n1", "10.0.0.1:7800", true, Map.of()),
                new ClusterView.Member("n1", "10.0.0.9:7800", false, Map.of())));
        try (CannedNode node = CannedNode.clusterView(twins)) {
            Run r = f.kgctl.run("status", "--node", node.url().toString(), "--token-file", f.tokenFile.toString());
            List<String> lines = r.out().lines().toList();
            assertThat(lines.get(3)).startsWith("n1").contains("10.0.0.1:7800");
            assertThat(lines.get(3).split("\\s+")[2]).as("role").contains("self");
            assertThat(lines.get(4)).startsWith("n1").contains("10.0.0.9:7800");
            assertThat(lines.get(4).split("\\s+")[2]).as("role").doesNotContain("self");
        }
        ClusterView left = new ClusterView("n1", "DUPLICATE_ID", null, true, false, "2026-11-25T10:00:00Z", List.of(
                new ClusterView.Member("n1", "10.0.0.9:7800", true, Map.of())));
        try (CannedNode node = CannedNode.clusterView(left)) {
            Run r = f.kgctl.run("status", "--node", node.url().toString(), "--token-file", f.tokenFile.toString());
            assertThat(r.exitCode()).as(r.err()).isZero();
            assertThat(r.out()).contains("state DUPLICATE_ID").contains("LEFT THE MESH: another host has this node's id");
        }
    }

    @Test
    void status_withSites_showsEachOtherSiteOnlineOrOffline_itsLastContact_andBackupsHeldOffline() throws Exception {
        ClusterView view = new ClusterView("e1", "CLUSTERED", "e1", false, true, "2026-11-25T10:00:00Z", List.of(
                new ClusterView.Member("e1", "10.0.0.1:7800", true, Map.of())), List.of(), "east", List.of(
                new ClusterView.Site("west", true, "2026-11-25T09:59:58Z", List.of("records")), new ClusterView.Site("dr", false, "never")));
        try (CannedNode node = CannedNode.clusterView(view)) {
            String url = node.url().toString();

            Run r = f.kgctl.run("status", "--node", url, "--token-file", f.tokenFile.toString());
            JsonNode n = json.readTree(f.kgctl.run("status", "--node", url, "--token-file", f.tokenFile.toString(), "-o", "json").out());

            assertThat(r.exitCode()).as(r.err()).isZero();
            List<String> lines = r.out().lines().toList();
            int at = lines.indexOf("site east, other sites: 2");
            assertThat(at).as(r.out()).isPositive();
            assertThat(lines.get(at + 1)).startsWith("SITE");
            assertThat(lines.get(at + 1)).contains("BACKUPS OFFLINE");
            assertThat(lines.get(at + 2)).startsWith("west").contains("online", "2026-11-25T09:59:58Z").endsWith("records");
            assertThat(lines.get(at + 3)).startsWith("dr").contains("OFFLINE", "never").endsWith("-");
            assertThat(n.get("sites").get(0).get("offlineBackups").get(0).asText()).isEqualTo("records");
            assertThat(n.get("sites").get(1).get("offlineBackups")).isEmpty();
            assertThat(n.get("site").asText()).isEqualTo("east");
            assertThat(n.get("sites").get(1).get("online").asBoolean()).isFalse();
            assertThat(n.get("sites").get(0).get("lastContact").asText()).isEqualTo("2026-11-25T09:59:58Z");
        }
        try (CannedNode node = CannedNode.clusterView(new ClusterView("n1", "ALONE", "n1", false, false, "never", List.of()))) {
            assertThat(f.kgctl.run("status", "--node", node.url().toString(), "--token-file", f.tokenFile.toString()).out())
                    .doesNotContain("SITE");
        }
    }

    @Test
    void status_nodeDown_exit4_wrongToken_exit5() throws Exception {
        Run down = f.kgctl.run("status", "--node", OnlineFixture.deadUrl(), "--token-file", f.tokenFile.toString());
        Files.writeString(f.tokenFile, "nope");
        Run auth = f.admin("status");

        assertThat(down.exitCode()).isEqualTo(4);
        assertThat(auth.exitCode()).isEqualTo(5);
    }

    @Test
    void bundlesList_andHistory() throws Exception {
        f.publish("a", 1);
        f.publish("a", 2);
        f.publish("b", 9);

        Run list = f.admin("bundles", "list");
        Run history = f.admin("bundles", "history", "a", "-o", "json");
        Run unknown = f.admin("bundles", "history", "zzz");

        assertThat(list.exitCode()).as(list.err()).isZero();
        assertThat(list.out().lines().toList()).hasSize(3);
        assertThat(list.out()).contains("all 1 at 2", "all 1 at 9");
        JsonNode h = json.readTree(history.out());
        assertThat(h.get("floor").asLong()).isEqualTo(2);
        assertThat(h.get("versions").get(0).get("state").asText()).isEqualTo("current");
        assertThat(h.get("versions").get(1).get("version").asLong()).isEqualTo(1);
        assertThat(unknown.exitCode()).isEqualTo(7);
    }

    @Test
    void audit_showsEveryPublishSentToTheNode_newestLast_andOfOneName() throws Exception {
        f.publish("a", 1);
        f.publish("b", 9);
        Run again = f.admin("publish", f.bundles.pack("a", 1).toString());
        assertThat(again.out()).as("a retry: kgctl counts it as done, the node answers 409").contains("already held");

        Run all = f.admin("audit");
        Run ofA = f.admin("audit", "a", "-o", "json");
        Run newest = f.admin("audit", "--limit", "1");
        Run none = f.admin("audit", "never-published");

        assertThat(all.exitCode()).as(all.err()).isZero();
        List<String> lines = all.out().lines().toList();
        assertThat(lines.get(0)).isEqualTo("audit log of " + f.admin() + ": the newest 3 entries, oldest first");
        assertThat(lines.get(1)).startsWith("TIME").contains("TOKEN", "SOURCE", "ACTION", "NAME", "VERSION", "STATUS", "OUTCOME").endsWith("DIGEST");
        assertThat(lines.get(2)).contains("admin", "127.0.0.1", "publish", " a ", " 1 ", "201", "created",
                f.node.node.store().current("a").orElseThrow().manifestDigest());
        assertThat(lines.get(3)).contains(" b ", " 9 ", "201", "created");
        assertThat(lines.get(4)).contains(" a ", "409", "already_held");
        assertThat(lines).hasSize(5);

        JsonNode a = json.readTree(ofA.out());
        assertThat(a.get("node").asText()).isEqualTo(f.admin());
        assertThat(a.get("name").asText()).isEqualTo("a");
        assertThat(a.get("entries")).hasSize(2);
        assertThat(a.get("entries").get(0).get("outcome").asText()).isEqualTo("created");
        assertThat(a.get("entries").get(1).get("status").asInt()).isEqualTo(409);
        assertThat(newest.out().lines().toList()).hasSize(3).last().asString().contains("already_held");
        assertThat(none.exitCode()).isZero();
        assertThat(none.out()).isEqualTo("audit log of " + f.admin() + ": no entries about never-published\n");
    }

    @Test
    void audit_badNameOrLimit_exit2_nodeDown_exit4_wrongToken_exit5() throws Exception {
        assertThat(f.admin("audit", "Not..A.Name").exitCode()).isEqualTo(2);
        assertThat(f.admin("audit", "--limit", "0").exitCode()).isEqualTo(2);
        assertThat(f.admin("audit", "--limit", "1001").err()).contains("--limit must be 1..1000, got 1001");
        assertThat(f.kgctl.run("audit", "--node", OnlineFixture.deadUrl(), "--token-file", f.tokenFile.toString()).exitCode()).isEqualTo(4);
        Files.writeString(f.tokenFile, "nope");
        assertThat(f.admin("audit").exitCode()).isEqualTo(5);
    }

    @Test
    void bundlesShow_fetchesFromTheVmEndpoint_andVerifiesWithTrust() {
        f.publish("a", 3);

        Run r = f.kgctl.run("bundles", "show", "a", "--vm", f.vm(), "--trust", f.bundles.pub.toString());
        Run missing = f.kgctl.run("bundles", "show", "zzz", "--vm", f.vm());
        Run fromEnv = new KgctlRunner(Map.of("KGCTL_VM", f.vm())).run("bundles", "show", "a");
        Run noEndpoint = f.kgctl.run("bundles", "show", "a");

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("served by: " + f.vm() + ", in touch with peers: false", "version:   3", "signature: valid");
        assertThat(missing.exitCode()).isEqualTo(7);
        assertThat(missing.errLine()).contains("no_such_bundle");
        assertThat(fromEnv.exitCode()).as(fromEnv.err()).isZero();
        assertThat(noEndpoint.exitCode()).isEqualTo(2);
        assertThat(noEndpoint.errLine()).contains("give --vm URL (VM endpoint) or set KGCTL_VM");
    }

    @Test
    void bundlesDiff_fileAgainstServedVersion() throws Exception {
        Path v1 = f.bundles.pack("a", 1);
        Files.writeString(f.bundles.src.resolve("readme.txt"), "changed");
        Files.writeString(f.bundles.src.resolve("new.txt"), "new");
        f.publish("a", 2);

        Run r = f.kgctl.run("bundles", "diff", "a", v1.toString(), "2", "--vm", f.vm());
        Run notServed = f.kgctl.run("bundles", "diff", "a", "1", "2", "--vm", f.vm());

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("a: version 1 -> 2: 1 added, 0 removed, 1 changed, 1 unchanged", "  + new.txt", "  ~ readme.txt");
        assertThat(notServed.exitCode()).isEqualTo(7);
        assertThat(notServed.errLine()).contains("the node serves version 2");
    }

    @Test
    void bundlesDiff_byNumber_withTheAdminEndpoint_comparesAnyKeptVersion() throws Exception {
        f.publish("a", 1);
        Files.writeString(f.bundles.src.resolve("readme.txt"), "changed");
        Files.writeString(f.bundles.src.resolve("new.txt"), "new");
        f.publish("a", 2);
        f.publish("a", 3);

        Run oneToTwo = f.admin("bundles", "diff", "a", "1", "2");
        Run json = f.admin("bundles", "diff", "a", "1", "3", "-o", "json");
        Run notKept = f.admin("bundles", "diff", "a", "1", "9");
        Run unknown = f.admin("bundles", "diff", "zz", "1", "2");

        // before: exit 7, "the node serves version 3; give an archive file for other versions"
        assertThat(oneToTwo.exitCode()).as(oneToTwo.err()).isZero();
        assertThat(oneToTwo.out()).contains("a: version 1 -> 2: 1 added, 0 removed, 1 changed, 1 unchanged", "  + new.txt", "  ~ readme.txt");
        assertThat(json.exitCode()).as(json.err()).isZero();
        assertThat(new ObjectMapper().readTree(json.out()).get("toVersion").asLong()).isEqualTo(3);
        assertThat(notKept.exitCode()).isEqualTo(7);
        assertThat(notKept.errLine()).isEqualTo("kgctl bundles diff: " + f.admin() + " does not keep a version 9; kept versions: 1, 2, 3");
        assertThat(unknown.exitCode()).isEqualTo(7);
        assertThat(unknown.errLine()).isEqualTo("kgctl bundles diff: " + f.admin() + " keeps no version of zz");
    }

    @Test
    void bundlesDiff_aLabelAddedOrRemoved_readsNoneOnTheSideWithoutIt() {
        Path unlabelled = dir.resolve("a1.tar");
        Path labelled = dir.resolve("a2.tar");
        f.kgctl.run("bundle", "pack", f.bundles.src.toString(), "--name", "a", "--version", "1", "--key", f.bundles.key.toString(),
                "--out", unlabelled.toString());
        f.kgctl.run("bundle", "pack", f.bundles.src.toString(), "--name", "a", "--version", "2", "--key", f.bundles.key.toString(),
                "--out", labelled.toString(), "--label", "site=berlin");

        Run added = f.kgctl.run("bundles", "diff", "a", unlabelled.toString(), labelled.toString());
        Run removed = f.kgctl.run("bundles", "diff", "a", labelled.toString(), unlabelled.toString());

        // before: "label site: null -> berlin"
        assertThat(added.out()).contains("  label site: (none) -> berlin");
        assertThat(removed.out()).contains("  label site: berlin -> (none)");
    }

    @Test
    void watch_printsCurrentThenTheNextVersion() throws Exception {
        f.publish("a", 1);
        Path v2 = f.bundles.pack("a", 2);

        CompletableFuture<Run> watching = CompletableFuture.supplyAsync(
                () -> f.kgctl.run("watch", "a", "--vm", f.vm(), "--count", "1", "--wait", "20", "-o", "json"));
        await().atMost(Duration.ofSeconds(10)).until(() -> f.waiting() == 1);
        assertThat(f.node.publish("a", Files.readAllBytes(v2)).statusCode()).isEqualTo(201);
        Run r = watching.get(10, TimeUnit.SECONDS);

        assertThat(r.exitCode()).as(r.err()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines).hasSize(2);
        assertThat(json.readTree(lines.get(0)).get("event").asText()).isEqualTo("current");
        assertThat(json.readTree(lines.get(1)).get("version").asLong()).isEqualTo(2);
        assertThat(json.readTree(lines.get(1)).get("event").asText()).isEqualTo("changed");
    }

    @Test
    void watch_aNameNotYetPublished_saysAbsentOnce_thenPrintsItsFirstVersion() throws Exception {
        Path v1 = f.bundles.pack("later", 1);
        CompletableFuture<Run> watching = CompletableFuture.supplyAsync(
                () -> f.kgctl.run("watch", "later", "--vm", f.vm(), "--count", "1", "--wait", "20", "-o", "json"));
        // the node answers a long-poll for a name it does not hold at once: watch polls again after a pause,
        // several times here, and says "absent" only once
        await().atMost(Duration.ofSeconds(20)).until(() -> vm404s() >= 3);
        assertThat(watching).isNotDone();
        assertThat(f.node.publish("later", Files.readAllBytes(v1)).statusCode()).isEqualTo(201);
        Run r = watching.get(20, TimeUnit.SECONDS);

        assertThat(r.exitCode()).as(r.err()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines).hasSize(2);
        assertThat(json.readTree(lines.get(0)).get("event").asText()).isEqualTo("absent");
        assertThat(json.readTree(lines.get(1)).get("event").asText()).isEqualTo("changed");
        assertThat(json.readTree(lines.get(1)).get("version").asLong()).isEqualTo(1);
    }

    /** VM requests answered 404 so far (the node's own counter). */
    private double vm404s() {
        return new String(f.node.node.metrics().scrape(), java.nio.charset.StandardCharsets.UTF_8).lines()
                .filter(l -> l.startsWith("kgnode_http_requests_total{") && l.contains("endpoint=\"vm\"") && l.contains("status=\"404\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    @Test
    void watch_nodeDown_exit4() throws Exception {
        Run r = f.kgctl.run("watch", "a", "--vm", OnlineFixture.deadUrl());

        assertThat(r.exitCode()).isEqualTo(4);
    }

    @Test
    void retire_publishesATombstoneAtCurrentPlusOne() {
        f.publish("a", 4);

        Run r = f.admin("retire", "a", "--key", f.bundles.key.toString());
        Run show = f.kgctl.run("bundles", "show", "a", "--vm", f.vm());
        Run again = f.admin("retire", "a", "--key", f.bundles.key.toString());
        Run unknown = f.admin("retire", "zzz", "--key", f.bundles.key.toString());

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("retired a at version 5 via " + f.admin());
        assertThat(show.out()).contains("a is retired: withdrawn at version 5");
        assertThat(again.out()).contains("already retired (version 5)");
        assertThat(unknown.exitCode()).isEqualTo(7);
    }

    @Test
    void retire_aScopedBundle_keepsItsPoolsInTheTombstone() throws Exception {
        Path pooled = f.bundles.dir.resolve("pooled.tar");
        Run pack = f.kgctl.run("bundle", "pack", f.bundles.src.toString(), "--name", "fin", "--version", "1", "--key",
                f.bundles.key.toString(), "--pool", "finance", "--out", pooled.toString());
        assertThat(pack.exitCode()).as(pack.err()).isZero();
        assertThat(f.node.publish("fin", Files.readAllBytes(pooled)).statusCode()).isEqualTo(201);

        Run r = f.admin("retire", "fin", "--key", f.bundles.key.toString());

        assertThat(r.exitCode()).as(r.err()).isZero();
        String tombstone = f.node.adminGet("/v1/bundles/fin/manifest.json").body();
        assertThat(tombstone).contains("\"pools\":[\"finance\"]").contains("\"retired\":true").contains("\"version\":2");
    }

    @Test
    void completion_printsABashScriptCoveringTheCommands() {
        Run r = f.kgctl.run("completion");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).startsWith("#!/usr/bin/env bash").contains("complete -F", "publish", "seed", "bundles");
    }
}
