package io.knowngood.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The programs bin/kgnode starts before the JVM (issue 18, docs/benchmarks.md "Cold start"): each
 * costs 3-6 ms on a 2-core VM, and they took ~55 ms of every start. Run by bash with a PATH holding
 * only a stub java and recording stand-ins for the programs the launcher might start, so every one it
 * starts is seen:
 * <ul>
 *   <li>the usual start (a fresh AppCDS archive in place, nothing to adopt or clean up) starts
 *       readlink (to find the JDK) and java, nothing else: no dirname, basename, sed, flock or rm;</li>
 *   <li>a first start (no archive yet) still takes the archive's lock and has the JVM write one;</li>
 *   <li>an archive older than the runtime's install (its lib/server directory) is written anew;</li>
 *   <li>a start that adopts the archive a JVM wrote at exit has it synced to disk before renaming it
 *       into place: a cut-short archive kills every JVM that maps it.</li>
 * </ul>
 */
class LauncherProgramsTest {

    /** Programs the launcher may call; each stand-in records its name and arguments. */
    private static final List<String> RECORDED = List.of("dirname", "basename", "sed", "flock", "rm", "touch", "mkdir", "mv",
            "cat", "head", "awk", "grep", "cut", "tr", "sync");

    @TempDir
    Path dir;

    private Path bin;
    private Path cache;
    private Path calls;
    private Path jar;
    /** The launcher's archive for {@link #jar}: {@code CACHE/<jar name without .jar>.jsa}. */
    private Path jsa;

    @BeforeEach
    void stubs() throws IOException {
        bin = Files.createDirectories(dir.resolve("bin"));
        cache = Files.createDirectories(dir.resolve("cache"));
        calls = dir.resolve("calls");
        jar = LauncherRaceTest.kgnodeJar();
        jsa = cache.resolve(jar.getFileName().toString().replaceAll("\\.jar$", "") + ".jsa");
        for (String name : RECORDED) {
            script(name, "echo \"" + name + " $*\" >> '" + calls + "'\n");
        }
        script("readlink", "echo \"readlink $*\" >> '" + calls + "'\nexec /usr/bin/readlink \"$@\"\n");
        script("java", "echo \"java $*\" >> '" + calls + "'\n");
        // the stub JVM is older than the marker and the archive, as an installed JDK is
        Files.setLastModifiedTime(bin.resolve("java"), FileTime.from(Instant.parse("2020-01-01T00:00:00Z")));
        Files.writeString(cache.resolve(jar.getFileName() + ".trim-ok"), "");
    }

    @Test
    void theUsualStart_runsReadlinkAndJavaOnly() throws Exception {
        Files.writeString(jsa, "archive");
        Files.setLastModifiedTime(jsa, FileTime.from(Files.getLastModifiedTime(jar).toInstant().plusSeconds(60)));

        List<String> seen = launch();

        assertThat(seen).hasSize(2);
        assertThat(seen.get(0)).startsWith("readlink -f ");
        assertThat(seen.get(1)).startsWith("java ").contains("-XX:SharedArchiveFile=" + jsa).contains("-jar " + jar + " run");
    }

    @Test
    void aFirstStart_takesTheLockAndHasTheJvmWriteTheArchive() throws Exception {
        List<String> seen = launch();

        assertThat(seen).contains("flock -n 9");
        assertThat(seen.get(seen.size() - 1)).startsWith("java ").contains("-XX:ArchiveClassesAtExit=" + jsa + ".new");
    }

    @Test
    void anArchiveOlderThanTheRuntimesInstall_isWrittenAnew() throws Exception {
        // a JDK upgraded by dpkg: its files keep the package's build date, its lib/server directory
        // has the install's time, later than the archive
        Files.writeString(jsa, "archive");
        Instant archived = Files.getLastModifiedTime(jar).toInstant().plusSeconds(60);
        Files.setLastModifiedTime(jsa, FileTime.from(archived));
        Path server = Files.createDirectories(dir.resolve("lib/server"));
        Files.setLastModifiedTime(server, FileTime.from(archived.plusSeconds(60)));

        List<String> seen = launch();

        assertThat(seen).contains("flock -n 9");
        assertThat(seen.get(seen.size() - 1)).startsWith("java ").contains("-XX:ArchiveClassesAtExit=" + jsa + ".new")
                .doesNotContain("-XX:SharedArchiveFile=" + jsa + " ");
    }

    @Test
    void adoptingAWrittenArchive_syncsItBeforeTheRename() throws Exception {
        Path written = Path.of(jsa + ".new");
        Files.writeString(written, "archive");
        Files.setLastModifiedTime(written, FileTime.from(Files.getLastModifiedTime(jar).toInstant().plusSeconds(60)));

        List<String> seen = launch();

        int sync = seen.indexOf("sync " + written);
        int rename = seen.indexOf("mv -f " + written + " " + jsa);
        assertThat(sync).as("synced (%s)", seen).isPositive();
        assertThat(seen.get(sync - 1)).as("checked first").startsWith("java ").contains("-XX:SharedArchiveFile=" + written, "-XX:+VerifySharedSpaces");
        assertThat(rename).as("then renamed (%s)", seen).isEqualTo(sync + 1);
    }

    /** The programs {@code bin/kgnode run} started, in order, with PATH = the stubs only. */
    private List<String> launch() throws IOException, InterruptedException {
        Path out = dir.resolve("out");
        Path bash = List.of(Path.of("/usr/bin/bash"), Path.of("/bin/bash")).stream().filter(Files::isExecutable).findFirst()
                .orElseThrow(() -> new AssertionError("no bash in /usr/bin or /bin"));
        ProcessBuilder pb = new ProcessBuilder(bash.toString(), Checkout.bin("kgnode").toString(), "run", "--node-id", "x")
                .redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().clear();
        pb.environment().put("PATH", bin.toString());
        pb.environment().put("KGNODE_JAR", jar.toString());
        pb.environment().put("KGNODE_CACHE_DIR", cache.toString());
        Process p = pb.start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("the launcher finished").isTrue();
        assertThat(p.exitValue()).as(Files.readString(out)).isZero();
        return Files.readAllLines(calls);
    }

    private void script(String name, String body) throws IOException {
        Path f = bin.resolve(name);
        Files.writeString(f, "#!/bin/sh\n" + body);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
}
