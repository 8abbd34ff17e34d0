package io.knowngood.node.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.crypto.bundle.BundleVerifier;
import io.knowngood.crypto.bundle.Limits;
import io.knowngood.crypto.bundle.Rejection;
import io.knowngood.crypto.bundle.TrustedKeys;
import io.knowngood.crypto.bundle.VerifiedBundle;
import io.knowngood.crypto.bundle.VerifyResult;
import io.knowngood.node.TestBundles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BundleStoreTest {

    final TestBundles bundles = new TestBundles();
    final BundleVerifier verifier = new BundleVerifier(TrustedKeys.of(List.of(bundles.key.getPublic())), Limits.defaults());
    @TempDir
    Path dir;

    BundleStore open(StoreObserver... observers) throws IOException {
        return BundleStore.open(dir.resolve("data"), dir.resolve("floor"), verifier, 3, bundles.clock, List.of(observers));
    }

    VerifiedBundle verified(String name, long version, String content) {
        return ((VerifyResult.Verified) verifier.verify(bundles.bundle(name, version, content))).bundle();
    }

    /** Another bundle of {@code b}'s name and version whose manifest digest is lower (or higher) than b's. */
    VerifiedBundle sameVersion(VerifiedBundle b, boolean lower) {
        for (int i = 0; ; i++) {
            VerifiedBundle other = verified(b.name(), b.version(), "other " + i);
            if (lower == other.manifestDigest().compareTo(b.manifestDigest()) < 0) {
                return other;
            }
        }
    }

    /** A store that holds web v1, published here. */
    BundleStore holdingWebV1() throws IOException {
        BundleStore s = open();
        s.admit(verified("web", 1, "one"), "publish");
        return s;
    }

    static byte[] readAll(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    Path file(String name, long version) {
        return dir.resolve("data/bundles").resolve(name).resolve(String.format("%019d.tar", version));
    }

    @Test
    void admit_writesTheExactArchive_andServesIt_afterReopen() throws Exception {
        VerifiedBundle b = verified("web", 1, "x");
        assertThat(open().admit(b, "publish")).isInstanceOf(StoreOutcome.Stored.class);
        assertThat(Files.readAllBytes(file("web", 1))).isEqualTo(b.archiveBytes());
        BundleStore again = open();
        assertThat(again.current("web")).contains(b);
        assertThat(again.floor("web")).hasValue(1);
        try (Stream<Path> leftovers = Files.list(dir.resolve("data/bundles/web"))) {
            assertThat(leftovers.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith(".tmp-"));
        }
    }

    @Test
    void keepsTheNewestVersionsOnly() throws Exception {
        BundleStore s = open();
        for (int v = 1; v <= 5; v++) {
            s.admit(verified("web", v, "v" + v), "publish");
        }
        assertThat(s.history("web")).extracting(HistoryEntry::version).containsExactly(5L, 4L, 3L);
        assertThat(s.history("web").get(0).state()).isEqualTo("current");
    }

    @Test
    void olderOrEqualVersions_areRefusedAsRollback_sameBundleIsAlreadyHeld() throws Exception {
        BundleStore s = open();
        VerifiedBundle two = verified("web", 2, "two");
        s.admit(two, "publish");
        assertThat(s.admit(verified("web", 1, "one"), "peer:x")).isInstanceOf(StoreOutcome.Refused.class);
        assertThat(s.admit(sameVersion(two, false), "peer:x")).isInstanceOf(StoreOutcome.Refused.class);
        assertThat(s.admit(sameVersion(two, true), "publish")).isInstanceOf(StoreOutcome.Refused.class);
        assertThat(s.admit(verified("web", 2, "two"), "peer:x")).isInstanceOf(StoreOutcome.AlreadyHeld.class);
        assertThat(s.current("web").orElseThrow().version()).isEqualTo(2);
    }

    /** What a store observer heard about ties. */
    static final class Ties implements StoreObserver {
        final List<String> heard = new ArrayList<>();

        @Override
        public void tieReplaced(VerifiedBundle winner, String replacedDigest, String source) {
            heard.add(winner.name() + "@" + winner.version() + " " + replacedDigest + " -> " + winner.manifestDigest() + " from " + source);
        }
    }

    @Test
    void tie_aPeersBundleWithTheLowerDigest_replacesTheServedCopy_onDiskAndInTheFloor() throws Exception {
        Ties ties = new Ties();
        BundleStore s = open(ties);
        VerifiedBundle ours = verified("web", 4, "seeded on this side");
        s.admit(ours, "publish");
        VerifiedBundle winner = sameVersion(ours, true);

        assertThat(s.admit(winner, "peer:anti-entropy")).isEqualTo(new StoreOutcome.Stored(winner, true));

        assertThat(s.current("web")).contains(winner);
        assertThat(Files.readAllBytes(file("web", 4))).isEqualTo(winner.archiveBytes());
        assertThat(Files.readString(dir.resolve("floor"))).contains("web 4 " + winner.manifestDigest() + "\n");
        assertThat(ties.heard).containsExactly("web@4 " + ours.manifestDigest() + " -> " + winner.manifestDigest() + " from peer:anti-entropy");
        assertThat(s.admit(ours, "peer:x")).isInstanceOf(StoreOutcome.Refused.class); // the loser never comes back
        assertThat(s.admit(winner, "peer:x")).isEqualTo(new StoreOutcome.AlreadyHeld(4));
        BundleStore reopened = open();
        assertThat(reopened.current("web")).contains(winner);
        assertThat(reopened.floor("web")).hasValue(4);
        assertThat(reopened.health().errors()).isZero();
        assertThat(reopened.admit(ours, "peer:x")).isInstanceOf(StoreOutcome.Refused.class);
    }

    @Test
    void tie_theHigherDigest_isRefused_evenFromAPeer_andALocalPublishNeverWinsATie() throws Exception {
        Ties ties = new Ties();
        BundleStore s = open(ties);
        VerifiedBundle held = verified("web", 4, "held");
        s.admit(held, "peer:x");

        assertThat(s.admit(sameVersion(held, false), "peer:y")).isEqualTo(new StoreOutcome.Refused(new Rejection.Rollback("web", 4, 4)));
        assertThat(s.admit(sameVersion(held, true), "publish")).isEqualTo(new StoreOutcome.Refused(new Rejection.Rollback("web", 4, 4)));

        assertThat(s.current("web")).contains(held);
        assertThat(Files.readString(dir.resolve("floor"))).contains("web 4 " + held.manifestDigest() + "\n");
        assertThat(ties.heard).isEmpty();
    }

    @Test
    void tie_atTheFloorVersion_whileAnOlderVersionIsHeld_admitsTheLowerDigestOnly() throws Exception {
        BundleStore s = open();
        s.admit(verified("web", 1, "one"), "publish");
        VerifiedBundle two = verified("web", 2, "two");
        s.admit(two, "publish");
        Files.delete(file("web", 2)); // an older data dir restored: v1 held, floor at v2
        BundleStore restored = open();
        VerifiedBundle lower = sameVersion(two, true);

        assertThat(restored.admit(lower, "peer:x")).isInstanceOf(StoreOutcome.Stored.class);

        assertThat(restored.servable("web")).contains(lower);
        assertThat(Files.readString(dir.resolve("floor"))).contains("web 2 " + lower.manifestDigest() + "\n");
        assertThat(restored.admit(two, "peer:x")).isInstanceOf(StoreOutcome.Refused.class);
    }

    @Test
    void truncatedNewestCopy_fallsBackToThePreviousVersion_andIsQuarantined() throws Exception {
        BundleStore s = open();
        s.admit(verified("web", 1, "one"), "publish");
        s.admit(verified("web", 2, "two"), "publish");
        byte[] full = Files.readAllBytes(file("web", 2));
        Files.write(file("web", 2), java.util.Arrays.copyOf(full, full.length / 2));

        List<String> errors = new ArrayList<>();
        BundleStore reopened = open(new StoreObserver() {
            @Override
            public void storeError(String kind, String detail) {
                errors.add(kind);
            }
        });
        assertThat(reopened.current("web").orElseThrow().version()).isEqualTo(1);
        assertThat(errors).containsExactly("damaged_copy");
        assertThat(reopened.health().behindFloor()).containsExactly(new StoreHealth.BehindFloor("web", 1, 2, true, "damaged"));
        assertThat(reopened.servable("web").orElseThrow().version()).isEqualTo(1);
        assertThat(Files.exists(file("web", 2))).isFalse();
        // The lost version comes back from a peer with the recorded digest, and only that way.
        assertThat(reopened.admit(sameVersion(verified("web", 2, "two"), false), "peer:x")).isInstanceOf(StoreOutcome.Refused.class);
        assertThat(reopened.admit(verified("web", 2, "two"), "peer:x")).isInstanceOf(StoreOutcome.Stored.class);
        assertThat(reopened.health().behindFloor()).isEmpty();
    }

    @Test
    void olderDataDirRestored_withholdsTheOldVersion_untilThePeerCopyOfTheFloorVersionArrives() throws Exception {
        BundleStore s = open();
        s.admit(verified("web", 1, "one"), "publish");
        s.admit(verified("web", 2, "two"), "publish");
        Files.delete(file("web", 2)); // as if last week's data dir had been restored
        BundleStore restored = open();
        assertThat(restored.current("web").orElseThrow().version()).isEqualTo(1);
        assertThat(restored.servable("web")).isEmpty();
        assertThat(restored.withheld("web")).isTrue();
        assertThat(restored.health().behindFloor()).containsExactly(new StoreHealth.BehindFloor("web", 1, 2, false, "missing"));
        assertThat(restored.health().bundles()).isZero();
        assertThat(restored.health().servingAllHeld()).isFalse();
        assertThat(restored.admit(sameVersion(verified("web", 2, "two"), false), "peer:x")).isInstanceOf(StoreOutcome.Refused.class);
        assertThat(restored.admit(verified("web", 2, "two"), "peer:x")).isInstanceOf(StoreOutcome.Stored.class);
        assertThat(restored.servable("web").orElseThrow().version()).isEqualTo(2);
    }

    @Test
    void damageEvidenceSurvivesARestart_soTheFallbackIsStillServed() throws Exception {
        BundleStore s = open();
        s.admit(verified("web", 1, "one"), "publish");
        s.admit(verified("web", 2, "two"), "publish");
        Files.write(file("web", 2), new byte[] {0});
        open();
        assertThat(open().servable("web").orElseThrow().version()).isEqualTo(1);
    }

    @Test
    void anyChangedByte_evenInTarPadding_isDetected() throws Exception {
        BundleStore s = open();
        s.admit(verified("web", 1, "one"), "publish");
        s.admit(verified("web", 2, "two"), "publish");
        byte[] bytes = Files.readAllBytes(file("web", 2));
        bytes[bytes.length - 1] = 7; // the end-of-archive zero block: no hash covers it
        Files.write(file("web", 2), bytes);
        assertThat(open().current("web").orElseThrow().version()).isEqualTo(1);
    }

    /**
     * A VM asking while a new version is stored gets the old or the new one, never "behind floor": the
     * store once raised the floor before making the new copy current, and a reader in between saw the
     * new floor over the old copy (503 to a VM of a healthy node, seen once in the sites chaos tier).
     * Readers spin on the other core while versions are stored; the old order failed this within a few
     * dozen versions here.
     */
    @Test
    void aReaderDuringAStore_neverSeesTheCopyWithheld() throws Exception {
        BundleStore s = open();
        int versions = 300;
        List<VerifiedBundle> all = new ArrayList<>();
        for (int v = 1; v <= versions; v++) {
            all.add(verified("web", v, "v" + v));
        }
        s.admit(all.get(0), "publish");
        java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicLong withheldSeen = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicLong reads = new java.util.concurrent.atomic.AtomicLong();
        Thread reader = new Thread(() -> {
            while (!done.get()) {
                if (s.servable("web").isEmpty() || s.withheld("web") || s.servableAll().isEmpty() || s.health().bundles() != 1) {
                    withheldSeen.incrementAndGet();
                }
                reads.incrementAndGet();
            }
        }, "vm-reader");
        reader.start();
        try {
            for (VerifiedBundle b : all.subList(1, versions)) {
                s.admit(b, "peer:other");
            }
        } finally {
            done.set(true);
            reader.join();
        }
        assertThat(reads.get()).as("reads done while storing").isGreaterThan(versions);
        assertThat(withheldSeen.get()).as("reads that found the held copy withheld or missing").isZero();
        assertThat(s.servable("web").orElseThrow().version()).isEqualTo(versions);
    }

    @Test
    void withPeers_aDamagedNewestCopyIsWithheldForTheFallbackDelay_thenThePreviousVersionIsServed() throws Exception {
        open().admit(verified("web", 1, "one"), "publish");
        BundleStore first = open();
        first.admit(verified("web", 2, "two"), "publish");
        Files.write(file("web", 2), new byte[] {1});
        io.knowngood.replication.MutableClock clock = new io.knowngood.replication.MutableClock(bundles.clock.instant());
        BundleStore s = BundleStore.open(dir.resolve("data"), dir.resolve("floor"), verifier, 3, clock, java.time.Duration.ofSeconds(15), List.of());
        assertThat(s.servable("web")).isEmpty();
        assertThat(s.health().behindFloor().get(0).serving()).isFalse();
        clock.now = clock.now.plusSeconds(16);
        assertThat(s.servable("web").orElseThrow().version()).isEqualTo(1);
        assertThat(s.health().behindFloor().get(0).serving()).isTrue();
    }

    @Test
    void floorSurvivesLosingTheWholeDataDir() throws Exception {
        open().admit(verified("web", 7, "seven"), "publish");
        deleteTree(dir.resolve("data"));
        BundleStore s = open();
        assertThat(s.current("web")).isEmpty();
        assertThat(s.floor("web")).hasValue(7);
        assertThat(s.health().servingAllHeld()).isTrue(); // nothing held is withheld: it just holds nothing
        assertThat(s.admit(verified("web", 6, "six"), "peer:x")).isInstanceOf(StoreOutcome.Refused.class);
    }

    @Test
    void aNewVersion_whoseFloorCannotBeWritten_isNeitherServedNorHeldAsTheFloor_andIsReported() throws Exception {
        List<String> errors = new ArrayList<>();
        BundleStore s = open(new StoreObserver() {
            @Override
            public void storeError(String kind, String detail) {
                errors.add(kind);
            }
        });
        VerifiedBundle one = verified("web", 1, "one");
        s.admit(one, "publish");
        // the floor file's path becomes a non-empty directory: nothing can be renamed over it
        Files.delete(dir.resolve("floor"));
        Files.createDirectories(dir.resolve("floor/occupied"));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> s.admit(verified("web", 2, "two"), "publish"))
                .isInstanceOf(IOException.class);
        assertThat(errors).contains("write_failed");
        assertThat(s.current("web")).contains(one);
        assertThat(s.floor("web")).hasValue(1);
        // the copy itself was made durable first: a retry (here from a peer) finds it and replaces it in place
        assertThat(file("web", 2)).exists();
        deleteTree(dir.resolve("floor"));
        VerifiedBundle two = verified("web", 2, "two");
        assertThat(s.admit(two, "peer:x")).isInstanceOf(StoreOutcome.Stored.class);
        assertThat(s.current("web")).contains(two);
        assertThat(open().floor("web")).hasValue(2);
    }

    @Test
    void admitted_runsOnce_afterTheCopyIsWritten_beforeTheVersionIsServed() throws Exception {
        BundleStore s = holdingWebV1();
        VerifiedBundle two = verified("web", 2, "two");
        List<String> seen = new ArrayList<>();
        StoreOutcome o = s.admit(two, "publish", () -> {
            seen.add("served v" + s.current("web").orElseThrow().version());
            seen.add("floor " + s.floor("web").orElseThrow());
            seen.add("copy in place " + Files.exists(file("web", 2)));
            try (Stream<Path> temps = Files.list(file("web", 2).getParent())) {
                seen.add("temp files " + temps.filter(p -> p.getFileName().toString().startsWith(".tmp-")).count());
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        assertThat(o).isInstanceOf(StoreOutcome.Stored.class);
        // the archive and its record written to temp files, nothing renamed, the old version still served
        assertThat(seen).containsExactly("served v1", "floor 1", "copy in place false", "temp files 2");
        assertThat(s.current("web")).contains(two);
        assertThat(open().floor("web")).hasValue(2);
    }

    @Test
    void admitted_neverRuns_forABundleNotAdmitted() throws Exception {
        BundleStore s = open();
        VerifiedBundle two = verified("web", 2, "two");
        s.admit(two, "publish");
        List<String> ran = new ArrayList<>();
        assertThat(s.admit(verified("web", 1, "one"), "publish", () -> ran.add("older"))).isInstanceOf(StoreOutcome.Refused.class);
        assertThat(s.admit(two, "publish", () -> ran.add("same"))).isInstanceOf(StoreOutcome.AlreadyHeld.class);
        assertThat(ran).isEmpty();
    }

    @Test
    void admitted_neverRuns_whenTheCopyCannotBeWritten_andNothingChanges() throws Exception {
        BundleStore s = holdingWebV1();
        // where the new name's directory must go there is a file: its copy cannot be written at all
        Files.writeString(dir.resolve("data/bundles/api"), "in the way");
        List<String> ran = new ArrayList<>();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> s.admit(verified("api", 1, "a"), "publish", () -> ran.add("api")))
                .isInstanceOf(IOException.class);
        assertThat(ran).isEmpty();
        assertThat(s.current("api")).isEmpty();
        assertThat(open().floor("api")).isEmpty();
    }

    @Test
    void admitted_hasRun_whenTheFloorFailsAfterTheCopyWasWritten_andTheVersionIsNotServed() throws Exception {
        BundleStore s = holdingWebV1();
        Files.delete(dir.resolve("floor"));
        Files.createDirectories(dir.resolve("floor/occupied"));
        List<String> ran = new ArrayList<>();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> s.admit(verified("web", 2, "two"), "publish", () -> ran.add("sent")))
                .isInstanceOf(IOException.class);
        assertThat(ran).containsExactly("sent");
        assertThat(s.current("web").orElseThrow().version()).isEqualTo(1);
    }

    @Test
    void admitted_thatFails_isLogged_andTheBundleIsStoredAllTheSame() throws Exception {
        BundleStore s = open();
        VerifiedBundle one = verified("web", 1, "one");
        assertThat(s.admit(one, "publish", () -> {
            throw new IllegalStateException("mesh closed");
        })).isInstanceOf(StoreOutcome.Stored.class);
        assertThat(s.current("web")).contains(one);
        assertThat(open().current("web")).contains(one);
    }

    @Test
    void admitted_runs_onceTheTieWinnerReplacedTheCopyInPlace() throws Exception {
        BundleStore s = open();
        VerifiedBundle one = verified("web", 1, "one");
        s.admit(one, "publish");
        VerifiedBundle winner = sameVersion(one, true);
        List<Boolean> onDisk = new ArrayList<>();
        assertThat(s.admit(winner, "peer:x", () -> onDisk.add(java.util.Arrays.equals(readAll(file("web", 1)), winner.sharedArchive()))))
                .isInstanceOf(StoreOutcome.Stored.class);
        assertThat(onDisk).containsExactly(true);
    }

    @Test
    void damagedFloorFile_isReported_andTheFloorRebuiltFromTheStore() throws Exception {
        open().admit(verified("web", 3, "three"), "publish");
        Files.writeString(dir.resolve("floor"), "garbage", StandardCharsets.UTF_8);
        List<String> errors = new ArrayList<>();
        BundleStore s = open(new StoreObserver() {
            @Override
            public void storeError(String kind, String detail) {
                errors.add(kind);
            }
        });
        assertThat(errors).contains("floor_damaged");
        assertThat(s.floor("web")).hasValue(3);
        assertThat(Files.readString(dir.resolve("floor"))).contains("web 3 ");
    }

    @Test
    void scrub_repairsTheServedCopyFromMemory_andQuarantinesDamagedOldOnes() throws Exception {
        BundleStore s = open();
        s.admit(verified("web", 1, "one"), "publish");
        s.admit(verified("web", 2, "two"), "publish");
        byte[] good = Files.readAllBytes(file("web", 2));
        byte[] bad = good.clone();
        bad[bad.length / 3] ^= 1;
        Files.write(file("web", 2), bad);
        Files.write(file("web", 1), new byte[] {1, 2, 3});
        assertThat(s.scrub()).isEqualTo(2);
        assertThat(Files.readAllBytes(file("web", 2))).isEqualTo(good);
        assertThat(Files.exists(file("web", 1))).isFalse();
        assertThat(s.health().errors()).isEqualTo(2);
        assertThat(s.scrub()).isZero();
    }

    @Test
    void untrustedCopies_areNotServedButLeftInPlace() throws Exception {
        open().admit(verified("web", 1, "one"), "publish");
        BundleVerifier nobody = new BundleVerifier(TrustedKeys.of(List.of(new TestBundles().key.getPublic())), Limits.defaults());
        BundleStore s = BundleStore.open(dir.resolve("data"), dir.resolve("floor"), nobody, 3, bundles.clock, List.of());
        assertThat(s.current("web")).isEmpty();
        assertThat(Files.exists(file("web", 1))).isTrue();
    }

    /** The publisher's new key (a key rotation), and verifiers trusting the old and the new key, or the new one only. */
    final TestBundles rotated = new TestBundles();
    final BundleVerifier bothKeys = new BundleVerifier(TrustedKeys.of(List.of(bundles.key.getPublic(), rotated.key.getPublic())),
            Limits.defaults());
    final BundleVerifier newOnly = new BundleVerifier(TrustedKeys.of(List.of(rotated.key.getPublic())), Limits.defaults());

    static VerifiedBundle verifiedBy(BundleVerifier v, byte[] archive) {
        return ((VerifyResult.Verified) v.verify(archive)).bundle();
    }

    /**
     * A publisher key leaked: the attacker's version 2 is signed by the old key only; the new key signed
     * version 1. With the old key no longer trusted, version 1 is served (not withheld below the floor:
     * no peer could supply a version 2 this node would take), the floor stays, and only a version above
     * it is taken.
     */
    @Test
    void aFloorCopySignedOnlyByAKeyNoLongerTrusted_leavesTheNewestTrustedCopyServed_andTheFloorStands() throws Exception {
        BundleStore s = BundleStore.open(dir.resolve("data"), dir.resolve("floor"), bothKeys, 3, bundles.clock, List.of());
        s.admit(verifiedBy(bothKeys, rotated.bundle("web", 1, "one")), "publish");
        s.admit(verifiedBy(bothKeys, bundles.bundle("web", 2, "leaked")), "publish");

        List<String> problems = new ArrayList<>();
        BundleStore after = BundleStore.open(dir.resolve("data"), dir.resolve("floor"), newOnly, 3, bundles.clock, List.of(new StoreObserver() {
            @Override
            public void storeError(String kind, String detail) {
                problems.add(kind + ": " + detail);
            }
        }));

        assertThat(after.servable("web").orElseThrow().version()).isEqualTo(1);
        assertThat(after.withheld("web")).isFalse();
        assertThat(after.floor("web")).hasValue(2);
        assertThat(after.health().behindFloor()).containsExactly(new StoreHealth.BehindFloor("web", 1, 2, true, "not_loadable"));
        assertThat(after.health().servingAllHeld()).isTrue();
        assertThat(problems).containsExactly("unloadable_copy: web@2 cannot be loaded with this configuration: untrusted_key");
        assertThat(Files.exists(file("web", 2))).as("left in place for a configuration that can load it").isTrue();
        assertThat(after.admit(verifiedBy(newOnly, rotated.bundle("web", 2, "two")), "publish"))
                .isInstanceOf(StoreOutcome.Refused.class);
        assertThat(after.admit(verifiedBy(newOnly, rotated.bundle("web", 3, "three")), "publish"))
                .isInstanceOf(StoreOutcome.Stored.class);
        assertThat(after.servable("web").orElseThrow().version()).isEqualTo(3);
        assertThat(after.health().behindFloor()).isEmpty();
    }

    @Test
    void anUnloadableCopyBelowTheFloor_doesNotExplainAMissingFloorCopy() throws Exception {
        BundleStore s = BundleStore.open(dir.resolve("data"), dir.resolve("floor"), bothKeys, 3, bundles.clock, List.of());
        s.admit(verifiedBy(bothKeys, rotated.bundle("web", 1, "one")), "publish");
        s.admit(verifiedBy(bothKeys, bundles.bundle("web", 2, "old key")), "publish");
        s.admit(verifiedBy(bothKeys, rotated.bundle("web", 3, "three")), "publish");
        Files.delete(file("web", 3)); // an older data dir restored

        BundleStore after = BundleStore.open(dir.resolve("data"), dir.resolve("floor"), newOnly, 3, bundles.clock, List.of());

        assertThat(after.current("web").orElseThrow().version()).isEqualTo(1);
        assertThat(after.withheld("web")).as("version 3, the floor, is simply missing: a peer can supply it").isTrue();
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : (Iterable<Path>) all.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.delete(p);
            }
        }
    }
}
