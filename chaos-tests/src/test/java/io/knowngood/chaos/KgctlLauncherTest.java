package io.knowngood.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/kgctl's AppCDS archive, with the real java and the real kgctl jar: the first run writes
 * kgctl.jsa as it exits, later runs map it (their classes come from the archive's top layer), and no
 * run's output or exit code differs from a run without it. An archive older than the jar is written
 * anew; a directory the launcher cannot write to means a run without one; what a killed run left
 * (kgctl.jsa.PID) is never mapped and is removed by the next run that writes.
 */
class KgctlLauncherTest {

    @TempDir
    Path dir;

    private Path jar;
    private Path cache;
    private Path jsa;

    @BeforeEach
    void copyOfTheJar() throws IOException {
        jar = Files.copy(PoolsProcessTest.KGCTL, Files.createDirectories(dir.resolve("lib")).resolve("kgctl.jar"));
        cache = dir.resolve("cache");
        jsa = cache.resolve("kgctl.jsa");
    }

    @Test
    void theFirstRunWritesTheArchive_laterRunsMapIt_withTheSameOutput() throws Exception {
        Run without = kgctl(List.of("KGCTL_CDS=0"), "--version");
        Run badWithout = kgctl(List.of("KGCTL_CDS=0"), "no-such-command");
        assertThat(jsa).doesNotExist();

        Run writing = kgctl(List.of(), "no-such-command");
        assertThat(writing).as("a failed command's exit code and words, while the archive is written").isEqualTo(badWithout);
        assertThat(writing.code()).isNotZero();
        assertThat(jsa).isRegularFile();
        assertThat(leftovers()).isEmpty();

        Path classLog = dir.resolve("classes.log");
        Run mapping = kgctl(List.of("KGCTL_JAVA_OPTS=-Xlog:class+load=info:file=" + classLog), "--version");
        assertThat(mapping).isEqualTo(without);
        assertThat(Files.readString(classLog)).as("kgctl's own classes come from the archive")
                .containsPattern("io\\.knowngood\\.cli\\.Kgctl source: shared objects file \\(top\\)");
    }

    @Test
    void anArchiveOlderThanTheJar_isWrittenAnew() throws Exception {
        kgctl(List.of(), "--version");
        Files.setLastModifiedTime(jsa, FileTime.from(Files.getLastModifiedTime(jar).toInstant().minusSeconds(60)));

        assertThat(kgctl(List.of(), "--version").code()).isZero();

        assertThat(Files.getLastModifiedTime(jsa)).isGreaterThan(Files.getLastModifiedTime(jar));
        assertThat(leftovers()).isEmpty();
    }

    @Test
    void aCacheDirectoryThatCannotBeMade_meansARunWithoutAnArchive() throws Exception {
        Path aFile = Files.writeString(dir.resolve("not-a-directory"), "");
        cache = aFile.resolve("cache");

        Run run = kgctl(List.of(), "--version");

        assertThat(run).isEqualTo(kgctl(List.of("KGCTL_CDS=0"), "--version"));
        assertThat(run.code()).isZero();
    }

    @Test
    void whatAKilledRunLeft_isNotMapped_andTheNextWritingRunRemovesIt() throws Exception {
        Files.createDirectories(cache);
        Path torn = cache.resolve("kgctl.jsa.4242");
        Files.write(torn, new byte[4096]);
        Files.setLastModifiedTime(torn, FileTime.from(Instant.now().plusSeconds(60)));

        assertThat(kgctl(List.of(), "--version").code()).isZero();

        assertThat(jsa).isRegularFile();
        assertThat(leftovers()).isEmpty();
    }

    private List<Path> leftovers() throws IOException {
        try (Stream<Path> s = Files.list(cache)) {
            return s.filter(p -> p.getFileName().toString().matches("kgctl\\.jsa\\..+")).collect(Collectors.toList());
        }
    }

    /** What one run of bin/kgctl gave: exit code, standard output, standard error. */
    record Run(int code, String out, String err) {}

    private Run kgctl(List<String> env, String... args) throws IOException, InterruptedException {
        Path out = Files.createTempFile(dir, "out", ".txt");
        Path err = Files.createTempFile(dir, "err", ".txt");
        ProcessBuilder pb = new ProcessBuilder(Stream.concat(Stream.of(Checkout.bin("kgctl").toString()), Stream.of(args))
                .collect(Collectors.toList())).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().put("KGCTL_JAR", jar.toString());
        pb.environment().put("KGCTL_CACHE_DIR", cache.toString());
        pb.environment().remove("KGCTL_JAVA_OPTS");
        pb.environment().remove("KGCTL_CDS");
        for (String e : env) {
            pb.environment().put(e.substring(0, e.indexOf('=')), e.substring(e.indexOf('=') + 1));
        }
        Process p = pb.start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("kgctl finished").isTrue();
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    }
}
