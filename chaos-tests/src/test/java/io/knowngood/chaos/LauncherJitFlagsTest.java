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
 * HotSpot prints nothing for those commands. {@code KGNODE_C1_ONLY=1} gives C1 alone, without them;
 * the opt-in docs/kgnode.md offers for C1 after 20 calls gives the thresholds it states.
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

    /**
     * The opt-in docs/kgnode.md offers a mesh that publishes often (C1 after 20 calls), taken from the
     * page as a user copies it: on top of the launcher's x20 scaling it gives the thresholds the page
     * states, and leaves the launcher's own settings in place.
     */
    @Test
    void theDocumentedSoonerC1_givesTheThresholdsTheDocsState() throws Exception {
        String doc = Files.readString(Checkout.root().resolve("docs/kgnode.md"));
        java.util.regex.Matcher m = java.util.regex.Pattern
                .compile("`KGNODE_JAVA_OPTS=\"([^\"]*Tier3InvocationThreshold[^\"]*)\"`").matcher(doc);
        assertThat(m.find()).as("docs/kgnode.md offers the sooner-C1 flags").isTrue();
        String documented = m.group(1).replaceAll("\\s+", " ").trim();

        String out = launch(Map.of("KGNODE_JAVA_OPTS", documented + " -XX:+PrintFlagsFinal"));

        assertThat(finalValue(out, "Tier3InvocationThreshold")).isEqualTo(20);
        assertThat(finalValue(out, "Tier3MinInvocationThreshold")).isEqualTo(20);
        assertThat(finalValue(out, "Tier3CompileThreshold")).isEqualTo(200);
        assertThat(finalValue(out, "Tier3BackEdgeThreshold")).isEqualTo(2000);
        assertThat(finalValue(out, "Tier0InvokeNotifyFreqLog")).isZero();
        assertThat(finalValue(out, "Tier0BackedgeNotifyFreqLog")).isZero();
        assertThat(finalValue(out, "Tier4InvocationThreshold")).as("C2 stays at x20").isEqualTo(100_000);
        assertThat(flagsLine(out)).contains("-XX:CompileThresholdScaling=20")
                .contains("-XX:CompileCommand=CompileThresholdScaling,org.bouncycastle.*::*,0.05");
        assertThat(out).contains("Usage: kgnode run");
    }

    /** The value -XX:+PrintFlagsFinal printed for {@code flag}. */
    private static long finalValue(String out, String flag) {
        return out.lines().map(String::trim).filter(l -> l.matches("\\S+ +" + flag + " +=.*")).findFirst()
                .map(l -> Long.parseLong(l.replaceAll("^\\S+ +" + flag + " += +(-?\\d+).*$", "$1")))
                .orElseThrow(() -> new AssertionError("no final value of " + flag + " in: " + out));
    }

    /** Output of {@code bin/kgnode run --help} with the JVM printing its command-line flags first. */
    private String launch(Map<String, String> extraEnv) throws IOException, InterruptedException {
        Path out = Files.createTempFile(dir, "launcher-", ".out");
        ProcessBuilder pb = new ProcessBuilder(Checkout.bin("kgnode").toString(), "run", "--help")
                .redirectErrorStream(true).redirectOutput(out.toFile());
        Map<String, String> env = pb.environment();
        env.put("KGNODE_JAR", LauncherRaceTest.kgnodeJar().toString());
        env.put("KGNODE_CACHE_DIR", dir.toString());
        env.put("KGNODE_CDS", "0");
        env.putAll(extraEnv);
        env.put("KGNODE_JAVA_OPTS", ("-XX:+PrintCommandLineFlags " + extraEnv.getOrDefault("KGNODE_JAVA_OPTS", "")).trim());
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
