package io.knowngood.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/kgnode refuses a java older than 17, or none, with a message that says so (exit 1, "could not
 * start"), instead of the JVM's own error about class file versions or an unknown option. The version is
 * read from the JDK's release file, as the launcher reads it; the fake JDK's java records being run.
 */
class LauncherJavaVersionTest {

    @TempDir
    Path dir;

    @Test
    void aJava11FirstOnThePath_isRefusedWithTheReason_andNeverRun() throws Exception {
        Path jdk = fakeJdk("11.0.22");

        Result r = launch(jdk.resolve("bin") + ":" + System.getenv("PATH"));

        assertThat(r.exit).isEqualTo(1);
        assertThat(r.output).contains("kgnode: needs Java 17 or later").contains("is Java 11");
        assertThat(dir.resolve("java-was-run")).doesNotExist();
    }

    @Test
    void aJava8_isRefusedToo() throws Exception {
        Path jdk = fakeJdk("1.8.0_392");

        Result r = launch(jdk.resolve("bin") + ":" + System.getenv("PATH"));

        assertThat(r.exit).isEqualTo(1);
        assertThat(r.output).contains("is Java 1");
        assertThat(dir.resolve("java-was-run")).doesNotExist();
    }

    @Test
    void noJavaOnThePath_isRefusedWithWhatToInstall() throws Exception {
        // a PATH with only the tools the launcher needs before it looks for java (small scripts that run them)
        Path bin = Files.createDirectories(dir.resolve("tools"));
        for (String tool : new String[] {"bash", "dirname", "readlink", "sed"}) {
            Path wrapper = bin.resolve(tool);
            Files.writeString(wrapper, "#!/bin/sh\nexec " + which(tool) + " \"$@\"\n");
            Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwxr-xr-x"));
        }

        Result r = launch(bin.toString());

        assertThat(r.exit).isEqualTo(1);
        assertThat(r.output).contains("kgnode: no java on the PATH").contains("openjdk-17-jre-headless");
    }

    @Test
    void theJava17OfThisMachine_starts() throws Exception {
        Result r = launch(System.getenv("PATH"));

        assertThat(r.exit).as(r.output).isZero();
        assertThat(r.output).contains("Usage: kgnode run");
    }

    /** A JDK directory whose bin/java leaves a mark when run, and whose release file gives {@code version}. */
    private Path fakeJdk(String version) throws IOException {
        Path jdk = Files.createDirectories(dir.resolve("jdk-" + version));
        Files.createDirectories(jdk.resolve("bin"));
        Path java = jdk.resolve("bin/java");
        Files.writeString(java, "#!/bin/sh\ntouch '" + dir.resolve("java-was-run") + "'\nexit 0\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(jdk.resolve("release"), "IMPLEMENTOR=\"test\"\nJAVA_VERSION=\"" + version + "\"\n");
        return jdk;
    }

    private record Result(int exit, String output) {
    }

    private Result launch(String path) throws IOException, InterruptedException {
        Path out = Files.createTempFile(dir, "launcher-", ".out");
        ProcessBuilder pb = new ProcessBuilder(Checkout.bin("kgnode").toString(), "run", "--help")
                .redirectErrorStream(true).redirectOutput(out.toFile());
        Map<String, String> env = pb.environment();
        env.put("PATH", path);
        env.put("KGNODE_JAR", LauncherRaceTest.kgnodeJar().toString());
        env.put("KGNODE_CACHE_DIR", dir.toString());
        env.put("KGNODE_CDS", "0");
        Process p = pb.start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("the launcher finished").isTrue();
        return new Result(p.exitValue(), Files.readString(out));
    }

    private static Path which(String tool) {
        for (String d : System.getenv("PATH").split(":")) {
            Path p = Path.of(d, tool);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        throw new AssertionError(tool + " is not on the PATH");
    }
}
