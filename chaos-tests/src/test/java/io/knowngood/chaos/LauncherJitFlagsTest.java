package io.knowngood.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JIT settings bin/kgnode gives the JVM (issue 18, docs/kgnode.md), read back from the JVM itself
 * ({@code -XX:+PrintCommandLineFlags}): every compile threshold x20, except the crypto packages, which
 * keep the JDK's defaults (a publish's verifying and decrypting were left interpreted at x20), and
 * HotSpot prints nothing for those commands. {@code KGNODE_C1_ONLY=1} gives C1 alone, without them.
 */
class LauncherJitFlagsTest {

    private static final String[] CRYPTO = {"sun.security.*", "com.sun.crypto.*", "org.bouncycastle.*"};

    @TempDir
    Path dir;

    @Test
    void theDefault_raisesEveryThresholdButTheCryptos_quietly() throws Exception {
        String out = launch(Map.of());

        String flags = flagsLine(out);
        assertThat(flags).contains("-XX:CompileThresholdScaling=20").doesNotContain("TieredStopAtLevel");
        for (String pkg : CRYPTO) {
            assertThat(flags).contains("-XX:CompileCommand=CompileThresholdScaling," + pkg + "::*,0.05");
        }
        assertThat(out).as("HotSpot echoes each CompileCommand unless told to be quiet").doesNotContain("CompileCommand:");
        assertThat(out).contains("Usage: kgnode run");
    }

    @Test
    void c1Only_hasNoThresholdCommands() throws Exception {
        String flags = flagsLine(launch(Map.of("KGNODE_C1_ONLY", "1")));

        assertThat(flags).contains("-XX:TieredStopAtLevel=1").doesNotContain("CompileThresholdScaling");
    }

    /** Output of {@code bin/kgnode run --help} with the JVM printing its command-line flags first. */
    private String launch(Map<String, String> extraEnv) throws IOException, InterruptedException {
        Path out = dir.resolve("launcher-" + extraEnv.size() + ".out");
        ProcessBuilder pb = new ProcessBuilder(Checkout.bin("kgnode").toString(), "run", "--help")
                .redirectErrorStream(true).redirectOutput(out.toFile());
        Map<String, String> env = pb.environment();
        env.put("KGNODE_JAR", LauncherRaceTest.kgnodeJar().toString());
        env.put("KGNODE_CACHE_DIR", dir.toString());
        env.put("KGNODE_CDS", "0");
        env.put("KGNODE_JAVA_OPTS", "-XX:+PrintCommandLineFlags");
        env.putAll(extraEnv);
        Process p = pb.start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("the launcher finished").isTrue();
        String text = Files.readString(out);
        assertThat(p.exitValue()).as(text).isZero();
        return text;
    }

    private static String flagsLine(String out) {
        return out.lines().filter(l -> l.contains("-XX:")).findFirst()
                .orElseThrow(() -> new AssertionError("no flags line in: " + out));
    }
}
