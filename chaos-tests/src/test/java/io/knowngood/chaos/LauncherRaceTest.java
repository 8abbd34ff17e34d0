package io.knowngood.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/kgnode started several at a time, as bin/demo and a host's restarts do (issue 12: the second
 * bin/demo run died about 2 times in 3 with "mv: cannot stat kgnode.jsa.NNNN"). Every launcher must
 * start; one JVM writes the AppCDS archive (kgnode.jsa.new), the next launcher that holds the lock
 * checks it and moves it in place; per-process files of older launchers and torn archives are
 * removed, and nothing else is left next to the jar. The jar is linked into a temp dir (KGNODE_JAR)
 * so the archive files are this test's alone.
 */
class LauncherRaceTest {

    private static final int LAUNCHERS = 4;
    private static final int ROUNDS = 6;
    private static final Set<String> ALLOWED = Set.of("kgnode.jar", "kgnode.jsa", "kgnode.jsa.new", "kgnode.cds-lock", "kgnode.jar.trim-ok");

    @TempDir
    Path dir;

    @Test
    void launchersStartedTogether_allStart_oneArchiveIsWrittenAndAdopted_noLeftovers() throws Exception {
        Path lib = Files.createDirectories(dir.resolve("lib"));
        Path jar = Files.createSymbolicLink(lib.resolve("kgnode.jar"), kgnodeJar());
        Path jsa = lib.resolve("kgnode.jsa");
        Path pending = lib.resolve("kgnode.jsa.new");

        for (int round = 1; round <= ROUNDS; round++) {
            if (round == 3) {
                // what launchers before issue 12 left: one finished archive per stopped node
                for (String pid : List.of("4101", "4102", "4103")) {
                    Files.copy(jsa, lib.resolve("kgnode.jsa." + pid), StandardCopyOption.REPLACE_EXISTING);
                    Files.setLastModifiedTime(lib.resolve("kgnode.jsa." + pid), FileTime.from(Instant.now()));
                }
            }
            if (round == 5) {
                // a JVM killed while writing: a valid header over missing regions (mapping it crashes a JVM)
                byte[] whole = Files.readAllBytes(jsa);
                Files.write(pending, java.util.Arrays.copyOf(whole, whole.length / 4));
            }
            List<Process> started = new ArrayList<>();
            for (int i = 0; i < LAUNCHERS; i++) {
                started.add(launch(jar, dir.resolve("r" + round + "-" + i + ".out"), ""));
            }
            for (int i = 0; i < LAUNCHERS; i++) {
                Path out = dir.resolve("r" + round + "-" + i + ".out");
                assertThat(started.get(i).waitFor(180, TimeUnit.SECONDS)).as("launcher %d of round %d finished", i, round).isTrue();
                assertThat(started.get(i).exitValue()).as("round %d launcher %d: %s", round, i, Files.readString(out)).isZero();
                assertThat(Files.readString(out)).as("round %d launcher %d", round, i).contains("Usage: kgnode run");
            }
            assertThat(names(lib)).as("files next to the jar after round %d", round).isSubsetOf(ALLOWED);
            if (round == 1) {
                assertThat(pending).as("the archive the first run wrote").isRegularFile();
            } else {
                assertThat(jsa).as("the adopted archive after round %d", round).isRegularFile();
                assertThat(pending).as("no archive left pending after round %d", round).doesNotExist();
            }
        }

        Path check = dir.resolve("check.out");
        Process p = launch(jar, check, "-Xlog:class+load=info");
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isZero();
        assertThat(Files.readString(check)).as("the node's classes come from the archive")
                .contains("io.knowngood.node.KgNode source: shared objects file (top)");
        Files.delete(jar); // the link only: JUnit would warn about deleting a link that leaves the temp dir
    }

    private Process launch(Path jar, Path out, String javaOpts) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(Checkout.bin("kgnode").toString(), "run", "--help")
                .redirectErrorStream(true).redirectOutput(out.toFile());
        Map<String, String> env = pb.environment();
        env.put("KGNODE_JAR", jar.toString());
        env.put("KGNODE_CDS", "1");
        env.put("KGNODE_JAVA_OPTS", javaOpts);
        return pb.start();
    }

    private static Set<String> names(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(f -> f.getFileName().toString()).collect(Collectors.toSet());
        }
    }

    static Path kgnodeJar() {
        Path jar = Path.of(System.getProperty("kgnode.jar", "../node/target/kgnode.jar")).toAbsolutePath();
        assertThat(jar).as("the kgnode jar (mvn verify from the root builds it)").isRegularFile();
        return jar;
    }
}
