package io.knowngood.cli.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.knowngood.api.MeshBundleList;
import io.knowngood.cli.KgctlRunner;
import io.knowngood.crypto.bundle.Ed25519Keys;
import io.knowngood.crypto.bundle.KeyId;
import io.knowngood.cli.KgctlRunner.Run;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kgctl seed against a real node (in process), invoked as the SPEC's cron line: admin URL and token
 * only. Publishes what changed at current+1, and nothing on a second run.
 */
class SeedCommandTest {
    @TempDir
    Path dir;

    private OnlineFixture f;
    private Path root;

    @BeforeEach
    void setUp() throws Exception {
        f = new OnlineFixture(dir);
        root = dir.resolve("bundles");
        Files.createDirectories(root.resolve("desktop-base/etc"));
        Files.writeString(root.resolve("desktop-base/etc/app.conf"), "a=1\n");
        Files.createDirectories(root.resolve("printers"));
        Files.writeString(root.resolve("printers/list.txt"), "hp-4th-floor\n");
        Files.createDirectories(root.resolve(".git"));
    }

    @AfterEach
    void tearDown() {
        f.close();
    }

    /** {@code kgctl seed SRC --key K --node ADMIN_URL --token-file F [extra]}, nothing else. */
    private Run seed(String... extra) {
        List<String> args = new ArrayList<>(List.of("seed", root.toString(), "--key", f.bundles.key.toString()));
        args.addAll(List.of(extra));
        return f.admin(args.toArray(String[]::new));
    }

    @Test
    void seed_withAdminUrlOnly_publishesEveryFolder_thenASecondRunPublishesNothing() {
        Run first = seed();

        assertThat(first.exitCode()).as(first.err()).isZero();
        assertThat(first.out()).contains("published  desktop-base version 1: 1 of 1 members hold it", "published  printers version 1",
                "published 2, unchanged 0, failed 0");
        assertThat(f.puts()).isEqualTo(2);

        Run second = seed();

        assertThat(second.exitCode()).as(second.err()).isZero();
        assertThat(second.err()).isEmpty();
        assertThat(second.out()).contains("unchanged  desktop-base (version 1)", "unchanged  printers (version 1)",
                "nothing to publish: 2 bundles unchanged");
        assertThat(f.puts()).isEqualTo(2);
    }

    @Test
    void seed_editedFile_publishesExactlyThatBundle_atPlusOne() throws Exception {
        seed();
        seed();
        Files.writeString(root.resolve("printers/list.txt"), "hp-4th-floor\nhp-5th-floor\n");

        Run r = seed();

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("unchanged  desktop-base (version 1)", "published  printers version 2",
                "published 1, unchanged 1, failed 0");
        assertThat(f.puts()).isEqualTo(3);
        assertThat(f.node.node.store().current("printers").orElseThrow().version()).isEqualTo(2);
        assertThat(seed().out()).contains("nothing to publish: 2 bundles unchanged");
    }

    @Test
    void seed_changedFolder_isPublishedAtCurrentPlusOne_othersUntouched() throws Exception {
        seed();
        f.publish("printers", 7); // someone published other content as printers v7 by hand
        Files.writeString(root.resolve("desktop-base/etc/app.conf"), "a=2\n");

        Run r = seed("-o", "json");

        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode n = new ObjectMapper().readTree(r.out());
        assertThat(n.get("published").asInt()).isEqualTo(2);
        JsonNode desktop = n.get("bundles").get(0);
        assertThat(desktop.get("name").asText()).isEqualTo("desktop-base");
        assertThat(desktop.get("action").asText()).isEqualTo("published");
        assertThat(desktop.get("version").asLong()).isEqualTo(2);
        assertThat(desktop.get("previous").asLong()).isEqualTo(1);
        JsonNode printers = n.get("bundles").get(1);
        assertThat(printers.get("version").asLong()).isEqualTo(8); // content differed from v7: back to the tree's, at 8
    }

    @Test
    void seed_labelChange_countsAsAChange() {
        seed();

        Run r = seed("--label", "site=berlin");

        assertThat(r.out()).contains("published  desktop-base version 2", "published  printers version 2");
    }

    @Test
    void seed_retiredBundle_isPublishedAgainAtCurrentPlusOne() {
        seed();
        Run retire = f.admin("retire", "printers", "--key", f.bundles.key.toString());
        assertThat(retire.out()).startsWith("retired printers at version 2");

        Run r = seed();

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("unchanged  desktop-base (version 1)", "published  printers version 3");
        assertThat(f.node.node.store().servable("printers").orElseThrow().retired()).isFalse();
        assertThat(seed().out()).contains("nothing to publish: 2 bundles unchanged");
    }

    @Test
    void seed_nodeRestoredFromAnOlderBackup_publishesAboveItsFloor() throws Exception {
        seed();
        f.node.close();
        Path backup = dir.resolve("backup");
        copyTree(f.nodeDir.resolve("data"), backup);
        f.restart();
        Files.writeString(root.resolve("printers/list.txt"), "changed\n");
        assertThat(seed().out()).contains("published  printers version 2");
        Files.writeString(root.resolve("printers/list.txt"), "hp-4th-floor\n"); // the tree is back to version 1's content
        f.node.close();
        deleteTree(f.nodeDir.resolve("data"));
        copyTree(backup, f.nodeDir.resolve("data")); // version 1 on disk, but the floor file remembers 2
        f.restart();
        assertThat(f.node.node.store().withheld("printers")).isTrue();

        Run r = seed();

        // the node holds version 1 with the tree's content, yet the mesh accepted 2: only above it is safe
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("unchanged  desktop-base (version 1)", "published  printers version 3");
        assertThat(f.node.node.store().servable("printers").orElseThrow().version()).isEqualTo(3);
    }

    /**
     * The publisher key rotation as docs/kgctl.md describes it: trust the new key beside the old one,
     * {@code seed --resign} with the new key, then trust the new key only. A version the old key alone
     * signed after that (the leaked-key case) leaves the newest copy the new key signed served, and
     * the next seed publishes above it.
     */
    @Test
    void seed_resign_afterAKeyRotation_signsTheUnchangedContentAgain_once() throws Exception {
        seed();
        KgctlRunner.Run gen = f.kgctl.run("keys", "generate", "--out", dir.resolve("keys2").toString(), "--name", "pub2");
        assertThat(gen.exitCode()).as(gen.err()).isZero();
        Path newKey = dir.resolve("keys2/pub2.key");
        Path newPub = dir.resolve("keys2/pub2.pub");
        String newKeyId = gen.out().lines().filter(l -> l.startsWith("key id:")).findFirst().orElseThrow().substring(7).trim();
        restartTrusting(f.bundles.pub, newPub);

        Run plain = f.admin("seed", root.toString(), "--key", newKey.toString());
        Run dry = f.admin("seed", root.toString(), "--key", newKey.toString(), "--resign", "--dry-run");
        Run resigned = f.admin("seed", root.toString(), "--key", newKey.toString(), "--resign", "-o", "json");
        Run again = f.admin("seed", root.toString(), "--key", newKey.toString(), "--resign");
        // guests still built with the old key: sign with both, once; the old key's signature alone is then missing nowhere
        Run withBoth = f.admin("seed", root.toString(), "--key", newKey.toString(), "--key", f.bundles.key.toString(), "--resign");
        Run bothAgain = f.admin("seed", root.toString(), "--key", f.bundles.key.toString(), "--key", newKey.toString(), "--resign");

        assertThat(plain.out()).as("without --resign the content alone counts").contains("nothing to publish: 2 bundles unchanged");
        assertThat(dry.out()).contains("would publish desktop-base version 2 (same content, signed again with key "
                + newKeyId.substring(0, 16) + "...: version 1 carries no signature by it)");
        assertThat(resigned.exitCode()).as(resigned.err()).isZero();
        JsonNode report = new ObjectMapper().readTree(resigned.out());
        assertThat(report.get("published").asInt()).isEqualTo(2);
        assertThat(report.get("bundles").get(0).get("detail").asText()).startsWith("same content, signed again with key");
        assertThat(again.out()).contains("nothing to publish: 2 bundles unchanged");
        String oldKeyId = KeyId.of(Ed25519Keys.readPublicPem(f.bundles.pub)).hex();
        assertThat(withBoth.out()).contains("published  desktop-base version 3 (same content, signed again with keys " + newKeyId.substring(0, 16)
                + "..., " + oldKeyId.substring(0, 16) + "...: version 2 carries no signature by " + oldKeyId.substring(0, 16) + "...)");
        assertThat(bothAgain.out()).contains("nothing to publish: 2 bundles unchanged");
        assertThat(f.node.node.store().servable("desktop-base").orElseThrow().signerKeyIds())
                .containsExactlyInAnyOrder(KeyId.of(Ed25519Keys.readPublicPem(newPub)), KeyId.of(Ed25519Keys.readPublicPem(f.bundles.pub)));

        // the old key leaked: a version it alone signed is published while it is still trusted somewhere ...
        Path leaked = dir.resolve("leaked");
        Files.createDirectories(leaked);
        Files.writeString(leaked.resolve("list.txt"), "attacker\n");
        Path archive = dir.resolve("printers-4.tar");
        assertThat(f.kgctl.run("bundle", "pack", leaked.toString(), "--name", "printers", "--version", "4", "--key",
                f.bundles.key.toString(), "--out", archive.toString()).exitCode()).isZero();
        assertThat(f.admin("publish", archive.toString()).exitCode()).isZero();
        // ... and the old key is no longer trusted: the copy the new key signed is served, not withheld
        restartTrusting(newPub);
        assertThat(f.node.node.store().servable("printers").orElseThrow().version()).isEqualTo(3);

        Run after = f.admin("seed", root.toString(), "--key", newKey.toString(), "--resign");

        assertThat(after.exitCode()).as(after.err()).isZero();
        assertThat(after.out()).contains("unchanged  desktop-base (version 3)", "published  printers version 5: 1 of 1 members hold it");
        assertThat(f.node.node.store().servable("printers").orElseThrow().version()).isEqualTo(5);
    }

    private void restartTrusting(Path... keys) throws Exception {
        f.node.close();
        f.node = io.knowngood.node.TestNode.start(f.nodeDir, keys[0],
                s -> s.trustKey = java.util.Arrays.stream(keys).map(Path::toString).toList());
    }

    /** printers version 2 packed from the seed folder by hand, with {@code extra} pack flags, and published. */
    private void publishPrintersBy(String... extra) {
        Path archive = dir.resolve("printers-2.tar");
        List<String> args = new ArrayList<>(List.of("bundle", "pack", root.resolve("printers").toString(), "--name", "printers",
                "--version", "2", "--key", f.bundles.key.toString(), "--out", archive.toString()));
        args.addAll(List.of(extra));
        Run pack = f.kgctl.run(args.toArray(String[]::new));
        assertThat(pack.exitCode()).as(pack.err()).isZero();
        Run pub = f.admin("publish", archive.toString());
        assertThat(pub.exitCode()).as(pub.err()).isZero();
    }

    @Test
    void seed_leavesAScopedBundleAlone_evenWhenItsFolderChanged_exit1() throws Exception {
        seed();
        publishPrintersBy("--pool", "finance");
        Files.writeString(root.resolve("printers/list.txt"), "hp-5th-floor\n");

        Run r = seed();

        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.out()).contains("unchanged  desktop-base (version 1)", "FAILED     printers: the version held is only for pools finance");
        assertThat(r.err()).contains("kgctl seed: printers: the version held is only for pools finance, and seed publishes plain "
                + "bundles for every VM: left alone");
        assertThat(f.node.node.store().current("printers").orElseThrow().version()).isEqualTo(2);
    }

    @Test
    void seed_leavesABundleWithEncryptedFilesAlone_exit1() throws Exception {
        seed();
        Run key = f.kgctl.run("keys", "generate", "--age", "--out", dir.resolve("age").toString(), "--output", "json");
        String recipient = new ObjectMapper().readTree(key.out()).get("recipient").asText();
        publishPrintersBy("--encrypt", "list.txt", "--recipient", recipient);

        Run r = seed();

        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.out()).contains("FAILED     printers: the version held has 1 encrypted file, and seed publishes plain");
        assertThat(f.node.node.store().current("printers").orElseThrow().version()).isEqualTo(2);
    }

    @Test
    void seed_dryRun_publishesNothing() {
        Run r = seed("--dry-run");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("would publish desktop-base version 1");
        assertThat(f.puts()).isZero();
    }

    @Test
    void seed_badFolderName_failsThatOne_exit1_publishesTheRest() throws Exception {
        Files.createDirectories(root.resolve("Bad Name"));
        Files.writeString(root.resolve("Bad Name/x"), "x");

        Run r = seed();

        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("kgctl seed: Bad Name: folder name is not a bundle name");
        assertThat(r.err().lines().toList()).last().isEqualTo("kgctl seed: 1 of 3 bundles failed");
        assertThat(f.puts()).isEqualTo(2);
    }

    @Test
    void seed_fileOrLinkAtTheTop_isSkippedWithAWarning_theFoldersArePublished() throws Exception {
        Files.writeString(root.resolve("app.conf"), "a=1\n");
        Path elsewhere = Files.createDirectories(dir.resolve("elsewhere/kiosk"));
        Files.writeString(elsewhere.resolve("k.conf"), "k=1\n");
        Files.createSymbolicLink(root.resolve("kiosk"), elsewhere);
        Files.writeString(root.resolve(".seedrc"), "hidden");

        Run r = seed("-o", "json");

        // before: both passed over without a word
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err().lines().toList()).containsExactly(
                "kgctl seed: skipped app.conf: not a folder (every bundle is a subfolder of " + root + ")",
                "kgctl seed: skipped kiosk: a symbolic link (seed reads folders only, not links to them)");
        JsonNode report = new ObjectMapper().readTree(r.out());
        assertThat(report.get("published").asInt()).isEqualTo(2);
        assertThat(report.get("skipped").toString()).isEqualTo("[\"app.conf\",\"kiosk\"]");
        assertThat(f.puts()).isEqualTo(2);
    }

    @Test
    void seed_labelGivenTwice_exit2_publishesNothing() {
        Run r = seed("--label", "site=berlin", "--label", "site=paris");

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.errLine()).isEqualTo("kgctl seed: --label site given twice (see 'kgctl seed --help')");
        assertThat(f.puts()).isZero();
    }

    @Test
    void seed_withVm_isStillAccepted() {
        Run first = seed("--vm", f.vm());
        Run second = seed("--vm", f.vm());

        assertThat(first.exitCode()).as(first.err()).isZero();
        assertThat(second.exitCode()).as(second.err()).isZero();
        assertThat(second.out()).contains("nothing to publish: 2 bundles unchanged");
    }

    @Test
    void seed_olderNodeWithoutAdminManifests_readsThemFromVm_orSaysToGiveIt() throws Exception {
        seed();
        MeshBundleList held = new MeshBundleList(List.of("desktop-base", "printers").stream()
                .map(n -> MeshBundleList.Entry.held(n, 1, "d", false, false, Instant.parse("2026-11-25T10:00:00Z"), 1L, Map.of("old", 1L)))
                .toList());
        try (CannedNode older = CannedNode.adminWithoutManifests(held)) {
            String[] base = {"seed", root.toString(), "--key", f.bundles.key.toString(), "--node", older.url().toString(),
                    "--token-file", f.tokenFile.toString()};
            Run withoutVm = f.kgctl.run(base);
            List<String> withVm = new ArrayList<>(List.of(base));
            withVm.addAll(List.of("--vm", f.vm()));
            Run viaVm = f.kgctl.run(withVm.toArray(String[]::new));

            assertThat(withoutVm.exitCode()).isEqualTo(6);
            assertThat(withoutVm.err()).contains(older.url() + " serves no manifests on its admin endpoint (a node older than this kgctl): "
                    + "give its VM endpoint with --vm URL or KGCTL_VM");
            assertThat(viaVm.exitCode()).as(viaVm.err()).isZero();
            assertThat(viaVm.out()).contains("nothing to publish: 2 bundles unchanged");
        }
    }

    @Test
    void seed_nodeDown_exit4() throws Exception {
        Run r = f.kgctl.run("seed", root.toString(), "--key", f.bundles.key.toString(), "--node", OnlineFixture.deadUrl(),
                "--token-file", f.tokenFile.toString());

        assertThat(r.exitCode()).isEqualTo(4);
    }

    @Test
    void seed_missingRoot_exit3() {
        Run r = f.admin("seed", dir.resolve("none").toString(), "--key", f.bundles.key.toString());

        assertThat(r.exitCode()).isEqualTo(3);
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : all.toList()) {
                Files.copy(p, to.resolve(from.relativize(p).toString()), StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
