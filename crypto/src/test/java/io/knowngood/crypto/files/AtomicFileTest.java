package io.knowngood.crypto.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFileTest {

    @TempDir
    Path dir;

    @Test
    void write_createsMissingDirectories_andLeavesNoTempFile() throws IOException {
        Path target = dir.resolve("a/b/out.tar");
        AtomicFile.write(target, bytes("content"));
        assertThat(Files.readString(target)).isEqualTo("content");
        assertThat(names(target.getParent())).containsExactly("out.tar");
    }

    @Test
    void write_replacesTheWholeOldContent() throws IOException {
        Path target = dir.resolve("out");
        AtomicFile.write(target, bytes("a much longer old content"));
        AtomicFile.write(target, bytes("new"));
        assertThat(Files.readString(target)).isEqualTo("new");
    }

    @Test
    void write_fromABuffer_writesItsRemainingBytes_withoutMovingIt() throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes("skip-keep"));
        b.position(5);
        AtomicFile.write(dir.resolve("out"), b);
        assertThat(Files.readString(dir.resolve("out"))).isEqualTo("keep");
        assertThat(b.position()).isEqualTo(5);
    }

    @Test
    void writeOwnerOnly_isRwForTheOwnerOnly_evenWhenReplacingAWorldReadableFile() throws IOException {
        Path target = dir.resolve("secret");
        AtomicFile.write(target, bytes("public"));
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-r--r--"));
        AtomicFile.writeOwnerOnly(target, bytes("secret"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(target))).isEqualTo("rw-------");
        assertThat(Files.readString(target)).isEqualTo("secret");
    }

    @Test
    void aFailedRename_leavesTheTargetAsItWas_andNoTempFile() throws IOException {
        Path target = dir.resolve("occupied");
        Files.createDirectories(target.resolve("child")); // a non-empty directory cannot be renamed over
        assertThatThrownBy(() -> AtomicFile.write(target, bytes("x"))).isInstanceOf(IOException.class);
        assertThat(names(dir)).containsExactly("occupied");
        assertThat(Files.isDirectory(target.resolve("child"))).isTrue();
    }

    @Test
    void writeInGroups_replacesEveryFile_inTwoDirectories_andLeavesNoTempFile() throws IOException {
        Path copy = dir.resolve("data/bundles/n/1.tar");
        Path record = dir.resolve("data/bundles/n/1.tar.sha256");
        Path floor = dir.resolve("data.floor");
        AtomicFile.write(floor, bytes("old floor"));
        AtomicFile.writeInGroups(List.of(
                List.of(new AtomicFile.Content(copy, bytes("archive")), new AtomicFile.Content(record, ByteBuffer.wrap(bytes("sum")))),
                List.of(new AtomicFile.Content(floor, bytes("new floor")))));
        assertThat(Files.readString(copy)).isEqualTo("archive");
        assertThat(Files.readString(record)).isEqualTo("sum");
        assertThat(Files.readString(floor)).isEqualTo("new floor");
        assertThat(names(copy.getParent())).containsExactly("1.tar", "1.tar.sha256");
        assertThat(names(dir)).containsExactly("data", "data.floor");
    }

    @Test
    void writeInGroups_whenOneTempFileCannotBeWritten_replacesNothing() throws IOException {
        Path copy = dir.resolve("d/copy");
        AtomicFile.write(copy, bytes("old copy"));
        Files.writeString(dir.resolve("blocker"), "a file where a directory is needed");
        Path unwritable = dir.resolve("blocker/floor");
        assertThatThrownBy(() -> AtomicFile.writeInGroups(List.of(
                List.of(new AtomicFile.Content(copy, bytes("new copy"))),
                List.of(new AtomicFile.Content(unwritable, bytes("floor")))))).isInstanceOf(IOException.class);
        assertThat(Files.readString(copy)).isEqualTo("old copy");
        assertThat(names(copy.getParent())).containsExactly("copy");
    }

    @Test
    void writeInGroups_runsWritten_onceEveryTempFileHoldsItsBytes_beforeAnythingIsRenamed() throws IOException {
        Path copy = dir.resolve("d/copy");
        Path floor = dir.resolve("floor");
        AtomicFile.write(copy, bytes("old copy"));
        List<String> seen = new java.util.ArrayList<>();
        AtomicFile.writeInGroups(List.of(
                List.of(new AtomicFile.Content(copy, bytes("new copy"))),
                List.of(new AtomicFile.Content(floor, bytes("floor")))), () -> {
                    try {
                        seen.add(Files.readString(copy));
                        seen.add(String.valueOf(Files.exists(floor)));
                        try (var temps = Files.list(copy.getParent())) {
                            temps.filter(p -> p.getFileName().toString().startsWith(AtomicFile.TEMP_PREFIX))
                                    .forEach(p -> seen.add(contentOf(p)));
                        }
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
        assertThat(seen).containsExactly("old copy", "false", "new copy");
        assertThat(Files.readString(copy)).isEqualTo("new copy");
        assertThat(Files.readString(floor)).isEqualTo("floor");
    }

    @Test
    void writeInGroups_neverRunsWritten_whenATempFileCannotBeWritten() throws IOException {
        Files.writeString(dir.resolve("blocker"), "a file where a directory is needed");
        java.util.concurrent.atomic.AtomicBoolean ran = new java.util.concurrent.atomic.AtomicBoolean();
        assertThatThrownBy(() -> AtomicFile.writeInGroups(List.of(
                List.of(new AtomicFile.Content(dir.resolve("copy"), bytes("copy"))),
                List.of(new AtomicFile.Content(dir.resolve("blocker/floor"), bytes("floor")))), () -> ran.set(true)))
                .isInstanceOf(IOException.class);
        assertThat(ran).isFalse();
        assertThat(names(dir)).containsExactly("blocker");
    }

    @Test
    void writeInGroups_whenWrittenThrows_renamesNothing_andLeavesNoTempFile() throws IOException {
        Path copy = dir.resolve("copy");
        AtomicFile.write(copy, bytes("old copy"));
        assertThatThrownBy(() -> AtomicFile.writeInGroups(List.of(List.of(new AtomicFile.Content(copy, bytes("new copy")))),
                () -> {
                    throw new IllegalStateException("caller's work failed");
                })).isInstanceOf(IllegalStateException.class);
        assertThat(Files.readString(copy)).isEqualTo("old copy");
        assertThat(names(dir)).containsExactly("copy");
    }

    @Test
    void writeInGroups_aLaterGroupThatCannotBeRenamed_leavesTheEarlierGroupInPlace_andNoTempFile() throws IOException {
        Path copy = dir.resolve("copy");
        Path occupied = dir.resolve("occupied");
        Files.createDirectories(occupied.resolve("child")); // a non-empty directory cannot be renamed over
        assertThatThrownBy(() -> AtomicFile.writeInGroups(List.of(
                List.of(new AtomicFile.Content(copy, bytes("copy"))),
                List.of(new AtomicFile.Content(occupied, bytes("floor")))))).isInstanceOf(IOException.class);
        assertThat(Files.readString(copy)).isEqualTo("copy");
        assertThat(names(dir)).containsExactly("copy", "occupied");
        assertThat(Files.isDirectory(occupied.resolve("child"))).isTrue();
    }

    @Test
    void aVeryLongTargetName_stillGetsATempFileTheFileSystemAccepts() throws IOException {
        Path target = dir.resolve("x".repeat(250));
        AtomicFile.write(target, bytes("long"));
        assertThat(Files.readString(target)).isEqualTo("long");
    }

    @Test
    void removeLeftovers_deletesOnlyTempFiles() throws IOException {
        Files.write(dir.resolve(AtomicFile.TEMP_PREFIX + "out-1234"), bytes("half"));
        Files.write(dir.resolve("out"), bytes("whole"));
        AtomicFile.removeLeftovers(dir);
        assertThat(names(dir)).containsExactly("out");
    }

    @Test
    void move_renamesIntoAnotherDirectory_replacingWhatIsThere() throws IOException {
        Path from = dir.resolve("bundles/1.tar");
        Path to = dir.resolve("quarantine/1.tar");
        AtomicFile.write(from, bytes("damaged"));
        AtomicFile.write(to, bytes("older evidence"));
        AtomicFile.move(from, to);
        assertThat(Files.exists(from)).isFalse();
        assertThat(Files.readString(to)).isEqualTo("damaged");
    }

    @Test
    void move_acrossFileSystems_failsClearly_insteadOfCopying() throws IOException {
        Path other = otherFileSystem();
        Path from = dir.resolve("1.tar");
        AtomicFile.write(from, bytes("x"));
        Path to = Files.createTempDirectory(other, "atomicfiletest").resolve("1.tar");
        try {
            assertThatThrownBy(() -> AtomicFile.move(from, to))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("atomically")
                    .hasMessageContaining("different file systems");
            assertThat(Files.exists(from)).isTrue();
            assertThat(Files.exists(to)).isFalse();
        } finally {
            Files.deleteIfExists(to);
            Files.delete(to.getParent());
        }
    }

    /** A writable directory on another file system than the test's temp dir (/dev/shm on Linux). */
    private Path otherFileSystem() throws IOException {
        for (String candidate : List.of("/dev/shm", "/run/shm", "/run")) {
            Path p = Path.of(candidate);
            if (Files.isDirectory(p) && Files.isWritable(p) && !Files.getFileStore(p).equals(Files.getFileStore(dir))) {
                return p;
            }
        }
        String why = "no writable directory on another file system than " + dir + " (tried /dev/shm, /run/shm, /run)";
        if ("true".equals(System.getenv("CI"))) {
            throw new AssertionError(why);
        }
        Assumptions.abort(why);
        return null;
    }

    private static String contentOf(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static List<String> names(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
