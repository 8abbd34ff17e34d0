package io.knowngood.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kgnode run} that cannot start for a file: exit 1 (2 for the config file) and one line on stderr naming
 * the file and what is wrong with it, and nothing left running (the HTTP worker made meanwhile on the other core goes too).
 */
class StartFailureTest {

    @TempDir
    Path dir;

    @Test
    void aMissingTrustKey_namesTheFile_andLeavesNoWorkerThreads() {
        Path missing = dir.resolve("missing.pub");
        assertThat(run("--node-id", "startfail1", "--data-dir", dir.resolve("data").toString(), "--standalone",
                "--vm-bind", "127.0.0.1:0", "--admin-bind", "127.0.0.1:0", "--trust-key", missing.toString()))
                .isEqualTo("1 kgnode: cannot start: " + missing + ": no such file or directory");
        await().atMost(Duration.ofSeconds(10)).until(() -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().startsWith("kgnode-startfail1")));
    }

    @Test
    void aMissingConfigFile_saysSo() {
        Path missing = dir.resolve("missing.yaml");
        assertThat(run("--config", missing.toString())).isEqualTo("2 kgnode: bad configuration: " + missing + ": no such file or directory");
    }

    @Test
    void aConfigThatIsADirectory_saysSo() {
        // before: "kgnode: bad configuration: Is a directory", without the path
        assertThat(run("--config", dir.toString())).isEqualTo("2 kgnode: bad configuration: " + dir + ": is a directory, not a configuration file");
    }

    @Test
    void aFloorFileThatIsADirectory_saysSo() throws Exception {
        Path floor = Files.createDirectories(dir.resolve("floor-dir"));
        String out = run("--node-id", "startfail3", "--data-dir", dir.resolve("data3").toString(), "--floor-file", floor.toString(),
                "--standalone", "--vm-bind", "127.0.0.1:0", "--admin-bind", "127.0.0.1:0");
        // before: "kgnode: cannot start: Is a directory", without the path
        assertThat(out).isEqualTo("1 kgnode: cannot start: floor file " + floor
                + " is a directory (--floor-file names a file, kept apart from the data dir)");
    }

    @Test
    void aDataDirThatIsAFile_saysSo() throws Exception {
        Path file = Files.writeString(dir.resolve("plain-file"), "x");
        String out = run("--node-id", "startfail2", "--data-dir", file.toString(), "--standalone",
                "--vm-bind", "127.0.0.1:0", "--admin-bind", "127.0.0.1:0");
        assertThat(out).startsWith("1 kgnode: cannot start: ").contains(file.toString()).containsIgnoringCase("not a directory");
    }

    private static String run(String... args) {
        return KgNodeRun.of(args).summary();
    }
}
