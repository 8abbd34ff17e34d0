package io.knowngood.node.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.knowngood.crypto.bundle.Rejection;
import io.knowngood.crypto.bundle.Sha256;
import io.knowngood.crypto.files.AtomicFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The disk layout alone: plain bytes stand in for archives (verifying them is not this class's job). */
class BundleFilesTest {

    @TempDir
    Path dir;

    private final Clock clock = Clock.fixed(Instant.parse("2026-11-25T10:00:00Z"), ZoneOffset.UTC);
    private final ProblemLog problems = new ProblemLog(clock, new CopyOnWriteArrayList<>());
    private BundleFiles files;

    private BundleFiles files() throws IOException {
        if (files == null) {
            files = new BundleFiles(dir, clock, problems);
            files.createDirectories();
        }
        return files;
    }

    private static ByteBuffer bytes(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    private List<String> namesIn(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void fileName_isTheVersionZeroPaddedToNineteenDigits_overTheWholeRange() {
        for (long v : new long[] {1, 7, 10, 999, 1_000_000_007L, 999_999_999_999_999_999L, Long.MAX_VALUE}) {
            assertThat(BundleFiles.fileName(v)).isEqualTo(String.format("%019d.tar", v)).hasSize(23);
        }
        assertThat(BundleFiles.fileName(Long.MAX_VALUE)).isEqualTo("9223372036854775807.tar");
    }

    @Test
    void layout_isOneDirectoryPerName_oneZeroPaddedFilePerVersion_withItsSha256Beside() throws IOException {
        files().write("web", 7, bytes("archive seven"));
        assertThat(namesIn(dir.resolve("bundles/web"))).containsExactly("0000000000000000007.tar", "0000000000000000007.tar.sha256");
        assertThat(files().read("web", 7)).asString(StandardCharsets.UTF_8).isEqualTo("archive seven");
        assertThat(Files.readString(dir.resolve("bundles/web/0000000000000000007.tar.sha256")))
                .isEqualTo(Sha256.hex("archive seven".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void namesAreSorted_andOnlyValidBundleNames_versionsNewestFirst() throws IOException {
        for (long v : new long[] {2, 10, 1}) {
            files().write("web", v, bytes("v" + v));
        }
        files().write("app", 1, bytes("a"));
        Files.createDirectories(dir.resolve("bundles/Not A Name"));
        Files.writeString(dir.resolve("bundles/web/notes.txt"), "not a version");
        assertThat(files().names()).containsExactly("app", "web");
        assertThat(files().versions("web")).containsExactly(10L, 2L, 1L);
        assertThat(files().versions("missing")).isEmpty();
    }

    @Test
    void anyChangedByte_isCaughtByTheRecordedSha256_andAMissingRecordLeavesItToVerification() throws IOException {
        files().write("web", 1, bytes("exact bytes"));
        assertThat(files().alteredSinceAccepted("web", 1, "exact bytes".getBytes(StandardCharsets.UTF_8))).isEmpty();
        assertThat(files().alteredSinceAccepted("web", 1, "exact bytez".getBytes(StandardCharsets.UTF_8)))
                .contains(new Rejection.MalformedArchive("archive bytes differ from those accepted (sha256 mismatch)"));
        Files.delete(dir.resolve("bundles/web/0000000000000000001.tar.sha256"));
        assertThat(files().alteredSinceAccepted("web", 1, "anything".getBytes(StandardCharsets.UTF_8))).isEmpty();
        files().writeSidecarIfMissing("web", 1, "exact bytes".getBytes(StandardCharsets.UTF_8));
        assertThat(files().alteredSinceAccepted("web", 1, "anything".getBytes(StandardCharsets.UTF_8))).isPresent();
    }

    @Test
    void quarantine_movesTheCopyOut_dropsItsSha256_andIsFoundAgainAsEvidence() throws IOException {
        files().write("web", 3, bytes("damaged"));
        files().quarantine("web", 3);
        assertThat(files().versions("web")).isEmpty();
        assertThat(namesIn(dir.resolve("bundles/web"))).isEmpty();
        assertThat(namesIn(dir.resolve("quarantine"))).containsExactly("web@3-2026-11-25T10-00-00Z.tar");
        assertThat(new BundleFiles(dir, clock, problems).quarantined()).containsExactly(new BundleFiles.Quarantined("web", 3));
        assertThat(problems.count()).isZero();
    }

    @Test
    void prune_keepsTheNewest_andTheServedVersionWhateverItsAge() throws IOException {
        for (long v = 1; v <= 5; v++) {
            files().write("web", v, bytes("v" + v));
        }
        files().prune("web", 2, 1, 0);
        assertThat(files().versions("web")).containsExactly(5L, 4L, 1L);
        assertThat(namesIn(dir.resolve("bundles/web"))).hasSize(6); // each with its sha256
    }

    @Test
    void prune_neverDropsAVersionAtOrAboveKeepFrom_theKnownGoodCopyARolloutFallsBackTo() throws IOException {
        for (long v = 1; v <= 6; v++) {
            files().write("web", v, bytes("v" + v));
        }
        files().prune("web", 1, 6, 3);
        assertThat(files().versions("web")).containsExactly(6L, 5L, 4L, 3L);
    }

    @Test
    void history_saysWhichCopyIsServed_whichWereVerified_andWhichNotYet() throws IOException {
        for (long v = 1; v <= 3; v++) {
            files().write("web", v, bytes("v" + v));
        }
        files().verified("web", 3, "d3");
        files().verified("web", 2, "d2");
        assertThat(files().history("web", 3)).extracting(HistoryEntry::version, HistoryEntry::state)
                .containsExactly(tuple(3L, "current"), tuple(2L, "kept"),
                        tuple(1L, "unverified"));
        files().quarantine("web", 2);
        assertThat(files().history("web", 3)).extracting(HistoryEntry::version).containsExactly(3L, 1L);
        assertThat(files().history("../etc", 0)).isEmpty();
    }

    @Test
    void removeLeftovers_clearsAnInterruptedWrite_only() throws IOException {
        files().write("web", 1, bytes("whole"));
        Files.writeString(dir.resolve("bundles/web").resolve(AtomicFile.TEMP_PREFIX + "0000000000000000002.tar-1f"), "half");
        files().removeLeftovers("web");
        assertThat(namesIn(dir.resolve("bundles/web"))).containsExactly("0000000000000000001.tar", "0000000000000000001.tar.sha256");
    }
}
