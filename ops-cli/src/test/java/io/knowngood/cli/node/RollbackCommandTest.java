package io.knowngood.cli.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.knowngood.api.BundleHistory;
import io.knowngood.api.MeshBundleList;
import io.knowngood.api.ErrorBody;
import io.knowngood.api.ErrorCode;
import io.knowngood.api.Published;
import io.knowngood.api.RolloutList;
import io.knowngood.cli.KgctlRunner;
import io.knowngood.cli.KgctlRunner.Run;
import io.knowngood.cli.bundle.ArchiveContents;
import io.knowngood.cli.bundle.BundleFixture;
import io.knowngood.cli.bundle.Packing;
import io.knowngood.crypto.bundle.BundlePacker;
import io.knowngood.crypto.bundle.BundleVerifier;
import io.knowngood.crypto.bundle.Ed25519Keys;
import io.knowngood.crypto.bundle.Limits;
import io.knowngood.crypto.bundle.Sha256;
import io.knowngood.crypto.bundle.TrustedKeys;
import io.knowngood.crypto.bundle.VerifyResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** kgctl rollback against canned admin answers (the real node has no kept-version archive route on this branch yet). */
class RollbackCommandTest {
    static final Clock THEN = Clock.fixed(Instant.parse("2026-11-20T08:00:00Z"), ZoneOffset.UTC);
    static final String X_TAR = "application/x-tar";

    @TempDir
    Path dir;

    private final KgctlRunner kgctl = new KgctlRunner();
    private BundleFixture keys;
    private PrivateKey key;
    private Path token;

    @BeforeEach
    void setUp() throws Exception {
        keys = new BundleFixture(dir);
        key = Ed25519Keys.readPrivatePem(keys.key);
        token = Files.writeString(dir.resolve("admin.token"), "secret\n");
    }

    static SortedMap<String, byte[]> files(String conf) {
        SortedMap<String, byte[]> f = new TreeMap<>();
        f.put("etc/app.conf", conf.getBytes(StandardCharsets.UTF_8));
        f.put("readme.txt", "hello".getBytes(StandardCharsets.UTF_8));
        return f;
    }

    private byte[] version(long v, PrivateKey signer) {
        return Packing.packNow("printers", v, files("v" + v + "\n"), Map.of("site", "berlin"), signer, THEN);
    }

    static BundleHistory history(Long floor, long... kept) {
        return new BundleHistory("printers", floor, java.util.Arrays.stream(kept)
                .mapToObj(v -> new BundleHistory.Version(v, "kept", "d" + v, 100, THEN.instant())).toList());
    }

    static MeshBundleList mesh(long here, Map<String, Long> members) {
        return new MeshBundleList(List.of(MeshBundleList.Entry.held("printers", here, "d", false, false, THEN.instant(), here, members)));
    }

    private Run rollback(CannedNode node, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("rollback", "printers", "--key", keys.key.toString(),
                "--node", node.url().toString(), "--token-file", token.toString()));
        args.addAll(List.of(more));
        return kgctl.run(args.toArray(String[]::new));
    }

    @Test
    void rollback_republishesTheKeptFilesAndLabels_atTheMeshsHighestPlusOne() throws Exception {
        try (CannedNode node = CannedNode.answering()
                .bytes("/v1/bundles/printers/versions/5", 200, X_TAR, version(5, key))
                .json("/v1/bundles/printers/history", 200, history(8L, 8, 5))
                .json("/v1/bundles", 200, mesh(8, Map.of("n1", 8L, "n2", 9L)))
                .json("/v1/bundles/printers", 201, new Published("printers", 10, "dd", 2, 2, true))) {
            Run r = rollback(node, "--to", "5");

            assertThat(r.exitCode()).as(r.err()).isZero();
            assertThat(r.out().lines().toList()).containsExactly("rolled back printers to the content of version 5 as version 10",
                    "published printers version 10 via " + node.url() + ": 2 of 2 members hold it");
            CannedNode.Request put = node.received().stream().filter(q -> q.method().equals("PUT")).findFirst().orElseThrow();
            assertThat(put.path()).isEqualTo("/v1/bundles/printers");
            VerifyResult v = new BundleVerifier(TrustedKeys.fromPemFiles(List.of(keys.pub)), Limits.defaults()).verify(put.body());
            assertThat(v).isInstanceOf(VerifyResult.Verified.class);
            ArchiveContents c = ((ArchiveContents.Read.Readable) ArchiveContents.read(put.body())).contents();
            assertThat(c.version()).isEqualTo(10);
            assertThat(c.claimedHashes()).isEqualTo(((ArchiveContents.Read.Readable) ArchiveContents.read(version(5, key))).contents().claimedHashes());
            assertThat(c.labels()).containsExactly(Map.entry("site", "berlin"));
            assertThat(c.expires()).isEmpty();
            assertThat(c.rollout()).isEmpty();
            assertThat(c.created()).isEqualTo("2026-11-25T10:00:00Z");
        }
    }

    @Test
    void rollback_ofAScopedVersionWithAnEncryptedFile_keepsItsPoolsAndCiphertext() throws Exception {
        byte[] ciphertext = "age-encryption.org/v1\n-> X25519 stand-in for a real age file\n".getBytes(StandardCharsets.UTF_8);
        SortedMap<String, byte[]> content = files("v5\n");
        content.put("secrets/db.pw", "db-password".getBytes(StandardCharsets.UTF_8));
        BundlePacker.FileSealer sealer = new BundlePacker.FileSealer() {
            @Override
            public boolean matches(String path) {
                return path.startsWith("secrets/");
            }

            @Override
            public byte[] seal(String path, byte[] plain) {
                return ciphertext;
            }
        };
        byte[] scoped = BundlePacker.pack("printers", 5, content, BundlePacker.PackOptions.labels(Map.of("site", "berlin"))
                .withPools(List.of("hr", "finance")).withSealer(sealer), key, THEN);
        try (CannedNode node = CannedNode.answering()
                .bytes("/v1/bundles/printers/versions/5", 200, X_TAR, scoped)
                .json("/v1/bundles/printers/history", 200, history(8L, 8, 5))
                .json("/v1/bundles", 200, mesh(8, Map.of("n1", 8L)))
                .json("/v1/bundles/printers", 201, new Published("printers", 9, "dd", 1, 1, true))) {
            Run r = rollback(node, "--to", "5");

            assertThat(r.exitCode()).as(r.err()).isZero();
            CannedNode.Request put = node.received().stream().filter(q -> q.method().equals("PUT")).findFirst().orElseThrow();
            VerifyResult v = new BundleVerifier(TrustedKeys.fromPemFiles(List.of(keys.pub)), Limits.defaults()).verify(put.body());
            assertThat(v).isInstanceOf(VerifyResult.Verified.class);
            ArchiveContents c = ((ArchiveContents.Read.Readable) ArchiveContents.read(put.body())).contents();
            assertThat(c.version()).isEqualTo(9);
            assertThat(c.pools()).containsExactly("finance", "hr");
            assertThat(c.files()).filteredOn(f -> f.path().equals("secrets/db.pw")).singleElement()
                    .satisfies(f -> {
                        assertThat(f.encrypted()).contains("age");
                        assertThat(f.sha256()).isEqualTo(Sha256.hex(ciphertext));
                    });
            assertThat(c.files()).filteredOn(f -> f.encrypted().isPresent()).hasSize(1);
        }
    }

    @Test
    void rollback_json_andAVersionSignedByAnotherPublisherKey() throws Exception {
        PrivateKey other = Ed25519Keys.generate().getPrivate();
        try (CannedNode node = CannedNode.answering()
                .bytes("/v1/bundles/printers/versions/5", 200, X_TAR, version(5, other))
                .json("/v1/bundles/printers/history", 200, history(12L, 7, 5))
                .json("/v1/bundles", 200, mesh(7, Map.of("n1", 7L)))
                .json("/v1/bundles/printers", 201, new Published("printers", 13, "dd", 1, 1, true))) {
            Run r = rollback(node, "--to", "5", "-o", "json");

            assertThat(r.exitCode()).as(r.err()).isZero();
            JsonNode n = new ObjectMapper().readTree(r.out());
            assertThat(n.get("from").asLong()).isEqualTo(5);
            assertThat(n.get("version").asLong()).isEqualTo(13);
            assertThat(n.get("previous").asLong()).isEqualTo(12);
            assertThat(n.get("files").asInt()).isEqualTo(2);
        }
    }

    /** A node keeping printers@5 whose rollout answer is {@code rollouts} (status {@code status}). */
    private CannedNode keeping5(int status, Object rollouts) throws java.io.IOException {
        return CannedNode.answering()
                .bytes("/v1/bundles/printers/versions/5", 200, X_TAR, version(5, key))
                .json("/v1/bundles/printers/history", 200, history(8L, 8, 5))
                .json("/v1/bundles", 200, mesh(8, Map.of("n1", 8L)))
                .json("/v1/rollouts/printers", status, rollouts)
                .json("/v1/bundles/printers", 201, new Published("printers", 9, "dd", 1, 1, true));
    }

    static RolloutList reverted5() {
        return new RolloutList("n1", List.of(new RolloutList.Rollout("printers", 5, "reverted", 0, 2, THEN.instant(),
                "2 VMs reported failed (revert_failed 2)", false, 3, 300, 2, 0, 2, List.of(), 8L, false)));
    }

    @Test
    void rollback_toAVersionWhoseRolloutWasReverted_isRefused_exit1_unlessEvenIfReverted() throws Exception {
        try (CannedNode node = keeping5(200, reverted5())) {
            Run refused = rollback(node, "--to", "5");

            assertThat(refused.exitCode()).as(refused.out()).isEqualTo(1);
            assertThat(refused.errLine()).isEqualTo("kgctl rollback: printers version 5 was reverted (2 VMs reported failed (revert_failed 2), says "
                    + node.url() + "): a rollback reaches every host at once, with no canary; roll back to a good version "
                    + "(see kgctl rollout status printers), or pass --even-if-reverted");
            assertThat(node.received()).noneMatch(q -> q.method().equals("PUT"));

            Run anyway = rollback(node, "--to", "5", "--even-if-reverted");
            assertThat(anyway.exitCode()).as(anyway.err()).isZero();
            assertThat(anyway.out()).startsWith("rolled back printers to the content of version 5 as version 9");
        }
    }

    @Test
    void rollback_whenTheNodeCannotSayWhetherVWasReverted_exit6_nothingPublished() throws Exception {
        try (CannedNode node = keeping5(503, ErrorBody.of(ErrorCode.STORE_UNAVAILABLE, "disk gone"))) {
            Run r = rollback(node, "--to", "5");

            assertThat(r.exitCode()).as(r.out()).isEqualTo(6);
            assertThat(r.errLine()).isEqualTo("kgctl rollback: " + node.url() + " could not say whether printers version 5 was reverted "
                    + "(GET /v1/rollouts/printers: HTTP 503 store_unavailable: disk gone); pass --even-if-reverted to roll back without knowing");
            assertThat(node.received()).noneMatch(q -> q.method().equals("PUT"));
        }
    }

    @Test
    void highestKnown_isTheMaxOfMembersFloorsAndKeptVersions() {
        MeshBundleList.Entry e = mesh(6, Map.of("n1", 6L, "n2", 9L)).get("printers").orElseThrow();

        assertThat(RollbackCommand.highestKnown(e, Optional.empty())).isEqualTo(9);
        assertThat(RollbackCommand.highestKnown(e, Optional.of(history(11L, 6, 5)))).isEqualTo(11);
        assertThat(RollbackCommand.highestKnown(e, Optional.of(history(null, 14, 5)))).isEqualTo(14);
        assertThat(RollbackCommand.highestKnown(MeshBundleList.Entry.membersOnly("printers", null, Map.of()), Optional.empty())).isZero();
    }

    @Test
    void rollback_toAVersionNotKept_exit7_namesTheKeptVersions() throws Exception {
        try (CannedNode node = CannedNode.answering().json("/v1/bundles/printers/history", 200, history(7L, 7, 6))) {
            Run r = rollback(node, "--to", "3");

            assertThat(r.exitCode()).isEqualTo(7);
            assertThat(r.errLine()).isEqualTo("kgctl rollback: " + node.url() + " does not keep printers version 3; kept versions: 6, 7");
            assertThat(node.received()).noneMatch(q -> q.method().equals("PUT"));
        }
    }

    @Test
    void rollback_aVersionTheFirstNodeNoLongerKeeps_isFetchedFromTheNext() throws Exception {
        try (CannedNode pruned = CannedNode.answering()
                .json("/v1/bundles/printers/history", 200, history(8L, 8, 7))
                .json("/v1/bundles", 200, mesh(8, Map.of("n1", 8L, "n2", 8L)))
                .json("/v1/bundles/printers", 201, new Published("printers", 9, "dd", 2, 2, true));
             CannedNode keeping = CannedNode.answering()
                .bytes("/v1/bundles/printers/versions/5", 200, X_TAR, version(5, key))
                .json("/v1/bundles/printers/history", 200, history(8L, 8, 5))) {
            Run r = kgctl.run("rollback", "printers", "--key", keys.key.toString(), "--to", "5",
                    "--node", pruned.url().toString(), "--node", keeping.url().toString(), "--token-file", token.toString());

            assertThat(r.exitCode()).as(r.err()).isZero();
            assertThat(r.err()).contains(pruned.url() + " does not keep printers version 5; asking the next node");
            assertThat(r.out()).contains("rolled back printers to the content of version 5 as version 9");
        }
    }

    @Test
    void rollback_ofANameNotKeptAtAll_exit7() throws Exception {
        try (CannedNode node = CannedNode.answering()) {
            Run r = rollback(node, "--to", "3");

            assertThat(r.exitCode()).isEqualTo(7);
            assertThat(r.errLine()).isEqualTo("kgctl rollback: " + node.url() + " keeps no version of printers; nothing to roll back to");
        }
    }

    @Test
    void rollback_nodeWithoutTheKeptVersionRoute_exit6() throws Exception {
        try (CannedNode node = CannedNode.answering().json("/v1/bundles/printers/history", 200, history(7L, 7, 6))) {
            Run r = rollback(node, "--to", "6");

            assertThat(r.exitCode()).isEqualTo(6);
            assertThat(r.errLine()).contains("keeps printers version 6 but serves no kept versions (a node older than this kgctl)");
        }
    }

    @Test
    void rollback_archiveOfAnotherVersion_tombstone_orTamperedFile_exit1() throws Exception {
        Path good = Files.write(dir.resolve("v5.tar"), version(5, key));
        byte[] tampered = Files.readAllBytes(BundleFixture.tamper(good, "v5\n", "v6\n"));
        try (CannedNode wrong = CannedNode.answering().bytes("/v1/bundles/printers/versions/5", 200, X_TAR, version(4, key));
             CannedNode retired = CannedNode.answering().bytes("/v1/bundles/printers/versions/5", 200, X_TAR,
                     BundlePacker.packRetired("printers", 5, key, THEN));
             CannedNode broken = CannedNode.answering().bytes("/v1/bundles/printers/versions/5", 200, X_TAR, tampered)) {
            Run w = rollback(wrong, "--to", "5");
            Run t = rollback(retired, "--to", "5");
            Run b = rollback(broken, "--to", "5");

            assertThat(w.exitCode()).isEqualTo(1);
            assertThat(w.errLine()).isEqualTo("kgctl rollback: " + wrong.url() + " sent printers version 4 when asked for printers version 5");
            assertThat(t.exitCode()).isEqualTo(1);
            assertThat(t.errLine()).contains("printers version 5 is a retirement tombstone");
            assertThat(b.exitCode()).isEqualTo(1);
            assertThat(b.errLine()).contains("files do not match its manifest: etc/app.conf");
            assertThat(wrong.received()).noneMatch(q -> q.method().equals("PUT"));
        }
    }

    @Test
    void rollback_usageErrors_exit2() {
        Run noTo = kgctl.run("rollback", "printers", "--key", keys.key.toString(), "--node", "http://127.0.0.1:9", "--token-file", token.toString());
        Run zero = kgctl.run("rollback", "printers", "--to", "0", "--key", keys.key.toString(), "--node", "http://127.0.0.1:9",
                "--token-file", token.toString());

        assertThat(noTo.exitCode()).isEqualTo(2);
        assertThat(noTo.errLine()).startsWith("kgctl rollback: Missing required option: '--to=V'");
        assertThat(zero.exitCode()).isEqualTo(2);
        assertThat(zero.errLine()).startsWith("kgctl rollback: --to must be from 1 to 2^63-1, got 0");
    }

    @Test
    void rollback_againstARealNode_servesVersion1sContentAsVersion3() throws Exception {
        try (OnlineFixture f = new OnlineFixture(dir.resolve("real"))) {
            f.publish("desktop-base", 1);
            Files.writeString(f.bundles.src.resolve("etc/app.conf"), "broken\n");
            f.publish("desktop-base", 2);
            Run abort = f.admin("rollout", "abort", "desktop-base", "--version", "2", "--key", f.bundles.key.toString());
            assertThat(abort.exitCode()).as(abort.err()).isZero();
            Run toReverted = f.admin("rollback", "desktop-base", "--to", "2", "--key", f.bundles.key.toString());
            assertThat(toReverted.exitCode()).as(toReverted.out()).isEqualTo(1);
            assertThat(toReverted.errLine()).startsWith("kgctl rollback: desktop-base version 2 was reverted (aborted by key ");
            Run history = f.admin("bundles", "history", "desktop-base");
            assertThat(history.exitCode()).as(history.err()).isZero();
            assertThat(history.out().lines().toList().get(1).split("\\s+")).startsWith("VERSION", "STATE", "ROLLOUT");
            assertThat(history.out().lines().filter(l -> l.startsWith("2 ")).findFirst().orElseThrow().split("\\s+"))
                    .as("the reverted version, marked").startsWith("2", "current", "reverted");
            assertThat(history.out().lines().filter(l -> l.startsWith("1 ")).findFirst().orElseThrow().split("\\s+"))
                    .as("a version without a rollout").startsWith("1", "kept", "-");

            Run r = f.admin("rollback", "desktop-base", "--to", "1", "--key", f.bundles.key.toString());

            assertThat(r.exitCode()).as(r.err()).isZero();
            assertThat(r.out()).startsWith("rolled back desktop-base to the content of version 1 as version 3\n");
            Run show = f.kgctl.run("bundles", "show", "desktop-base", "--vm", f.vm(), "-o", "json");
            JsonNode b = new ObjectMapper().readTree(show.out()).get("bundle");
            assertThat(b.get("version").asLong()).isEqualTo(3);
            assertThat(b.get("files").get(0).get("path").asText()).isEqualTo("etc/app.conf");
            assertThat(b.get("files").get(0).get("sha256").asText())
                    .isEqualTo(io.knowngood.crypto.bundle.Sha256.hex("key=value\n".getBytes(StandardCharsets.UTF_8)));
        }
    }
}
