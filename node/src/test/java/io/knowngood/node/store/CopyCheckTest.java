package io.knowngood.node.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.crypto.bundle.BundleVerifier;
import io.knowngood.crypto.bundle.Limits;
import io.knowngood.crypto.bundle.TrustedKeys;
import io.knowngood.node.TestBundles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Load and scrub alone, over real files and the real verifier, without the store around them. */
class CopyCheckTest {

    @TempDir
    Path dir;

    private final TestBundles bundles = new TestBundles();
    private final BundleVerifier verifier = new BundleVerifier(TrustedKeys.of(List.of(bundles.key.getPublic())), Limits.defaults());
    private final List<String> reported = new ArrayList<>();
    private ProblemLog problems;
    private BundleFiles files;
    private ServePolicy policy;
    private CopyCheck copies;

    @BeforeEach
    void setUp() throws IOException {
        List<StoreObserver> observers = new CopyOnWriteArrayList<>();
        observers.add(new StoreObserver() {
            @Override
            public void storeError(String kind, String detail) {
                reported.add(kind);
            }
        });
        problems = new ProblemLog(bundles.clock, observers);
        files = new BundleFiles(dir, bundles.clock, problems);
        files.createDirectories();
        policy = new ServePolicy(bundles.clock, Duration.ZERO);
        copies = new CopyCheck(files, verifier, policy, problems);
    }

    private void put(String name, long fileVersion, byte[] archive) throws IOException {
        files.write(name, fileVersion, ByteBuffer.wrap(archive));
    }

    @Test
    void newestValid_skipsAndQuarantinesDamagedNewerCopies() throws IOException {
        put("web", 1, bundles.bundle("web", 1, "one"));
        put("web", 2, bundles.bundle("web", 2, "two"));
        byte[] three = bundles.bundle("web", 3, "three");
        three[three.length / 2] ^= 1;
        Files.write(files.fileFor("web", 3), three); // no sidecar: verification itself must catch it
        assertThat(copies.newestValid("web").orElseThrow().version()).isEqualTo(2);
        assertThat(files.versions("web")).containsExactly(2L, 1L);
        assertThat(policy.foundDamaged("web", 3)).isTrue();
        assertThat(reported).containsExactly("damaged_copy");
    }

    @Test
    void aCopyWhoseFileNameSaysAnotherVersion_isDamaged() throws IOException {
        put("web", 5, bundles.bundle("web", 4, "four"));
        assertThat(copies.newestValid("web")).isEmpty();
        assertThat(files.versions("web")).isEmpty();
        assertThat(reported).containsExactly("damaged_copy");
    }

    @Test
    void aCopyThisConfigurationCannotLoad_isLeftInPlace() throws IOException {
        put("web", 2, TestBundles.untrusted("web", 2));
        put("web", 1, bundles.bundle("web", 1, "one"));
        assertThat(copies.newestValid("web").orElseThrow().version()).isEqualTo(1);
        assertThat(files.versions("web")).containsExactly(2L, 1L);
        assertThat(reported).containsExactly("unloadable_copy");
        assertThat(policy.foundDamaged("web", 2)).isFalse();
    }

    @Test
    void recallDamage_remembersWhatAnEarlierRunQuarantined() throws IOException {
        put("web", 2, new byte[] {1, 2, 3});
        assertThat(copies.newestValid("web")).isEmpty();
        ServePolicy afterRestart = new ServePolicy(bundles.clock, Duration.ZERO);
        new CopyCheck(files, verifier, afterRestart, problems).recallDamage();
        assertThat(afterRestart.foundDamaged("web", 2)).isTrue();
    }

    @Test
    void scrub_handsOverEachDamagedCopy_withWhy_andSkipsUnloadableOnes() throws IOException {
        put("app", 1, bundles.bundle("app", 1, "a"));
        put("web", 1, bundles.bundle("web", 1, "one"));
        put("web", 2, TestBundles.untrusted("web", 2));
        byte[] padded = Files.readAllBytes(files.fileFor("app", 1));
        padded[padded.length - 1] = 7; // in the end-of-archive zeros: only the recorded sha256 sees it
        Files.write(files.fileFor("app", 1), padded);
        Files.write(files.fileFor("web", 1), new byte[] {0});

        List<String> found = new ArrayList<>();
        int n = copies.scrub((name, version, problem) -> found.add(name + "@" + version + " " + problem.code()));
        assertThat(n).isEqualTo(2);
        assertThat(found).containsExactly("app@1 malformed_archive", "web@1 malformed_archive");
        assertThat(files.versions("web")).containsExactly(2L, 1L); // what to do is the caller's decision
    }

    @Test
    void scrub_ofIntactCopies_findsNothing() throws IOException {
        put("web", 1, bundles.bundle("web", 1, "one"));
        assertThat(copies.scrub((name, version, problem) -> {
            throw new AssertionError("not damaged: " + name + "@" + version + " " + problem.detail());
        })).isZero();
        assertThat(files.history("web", 0)).extracting(HistoryEntry::state).containsExactly("kept");
    }
}
