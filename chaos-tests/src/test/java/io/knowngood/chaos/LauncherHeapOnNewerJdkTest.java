package io.knowngood.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.crypto.bundle.BundlePacker;
import io.knowngood.crypto.bundle.Ed25519Keys;
import io.knowngood.testkit.Ci;
import io.knowngood.testkit.process.FileTrees;
import io.knowngood.testkit.process.MetricsPage;
import io.knowngood.testkit.process.NodeProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A node started by bin/kgnode keeps its heap near what it holds on the JDK it finds, also on JDK 23 and
 * later, whose Serial collector no longer runs a full collection after a young one grew the old
 * generation (JDK-8331557): there the old generation filled with promoted garbage up to the launcher's
 * -Xmx (256 MiB) before anything was given back. The node asks for that full collection itself
 * ({@code OldGenGrowthCollector}); on JDK 17, which still runs it, the node never asks.
 *
 * <p>The load: one bundle of 1 MiB published again and again (each version replaces the last, so what
 * is held stays one bundle), {@value #PUBLISHES} times, 400 MiB of archives through the heap, then small
 * publishes until the heap is back under the bound. Measured: Temurin 25, heap committed 42 MB, 31 full
 * collections asked for (0.38 s in all); OpenJDK 17, 42 MB, none asked and 33 full collections of its own
 * (0.36 s); Temurin 25 with the node's collector off ({@code -Dkgnode.gc.collectOnOldGrowth=false}), 177 MB
 * for 30 s.
 *
 * <p>The node's log holds none of the JVM's own warnings: on JDK 24 and later, Infinispan's use of
 * sun.misc.Unsafe and of restricted foreign-memory methods printed eight lines at each start, until the
 * launcher (Unsafe) and the jar's manifest (native access) allowed both. The JDKs are found under
 * /usr/lib/jvm (this kind of machine has OpenJDK 17 and Temurin 25); under CI=true a missing one fails
 * the test.
 */
class LauncherHeapOnNewerJdkTest {

    private static final int PUBLISHES = 400;
    /** Committed heap after the load: 40 MiB at start (-Xms40m), the launcher's maximum is 256 MiB. */
    private static final long HEAP_BOUND = 96L * 1024 * 1024;
    private static final int FIRST_WITHOUT_THE_RULE = 23;

    private Path dir;
    private final List<NodeProcess> nodes = new ArrayList<>();

    @BeforeEach
    void dir() throws IOException {
        dir = Files.createTempDirectory("kg-heap-jdk");
    }

    @AfterEach
    void stop() throws Exception {
        for (NodeProcess n : nodes) {
            n.stop();
        }
        FileTrees.delete(dir);
    }

    @Test
    void onAJdkWithoutTheFullCollectionAfterGrowth_theNodeAsksForIt_andTheHeapStaysNearWhatIsHeld() throws Exception {
        MetricsPage metrics = publishAgainAndAgain(jdkOrSkip(true));

        assertThat(metrics.value("kgnode_jvm_old_gen_collections_requested_total").orElse(0)).as("full collections the node asked for")
                .isPositive();
    }

    @Test
    void onJdk17_whichCollectsByItself_theNodeNeverAsks_andTheHeapStaysNearWhatIsHeld() throws Exception {
        MetricsPage metrics = publishAgainAndAgain(jdkOrSkip(false));

        assertThat(metrics.value("kgnode_jvm_old_gen_collections_requested_total")).hasValue(0);
    }

    /** A JDK from 23 on ({@code newer}) or older, under /usr/lib/jvm; skips without one, fails under CI=true. */
    private static Path jdkOrSkip(boolean newer) throws IOException {
        Optional<Path> jdk = jdk(newer);
        String why = jdk.isPresent() ? null
                : newer ? "no JDK " + FIRST_WITHOUT_THE_RULE + " or later under /usr/lib/jvm"
                : "no JDK older than " + FIRST_WITHOUT_THE_RULE + " (17, as the README asks) under /usr/lib/jvm";
        Assumptions.assumeTrue(Ci.available(why), why);
        return jdk.get();
    }

    /**
     * Starts a node through bin/kgnode with {@code jdk}'s java first on the PATH, runs the load, waits for
     * the heap to come back under {@link #HEAP_BOUND} and returns the node's metrics.
     */
    private MetricsPage publishAgainAndAgain(Path jdk) throws Exception {
        KeyPair publisher = Ed25519Keys.generate();
        Path trust = dir.resolve("publisher.pub");
        Ed25519Keys.writePublicPem(publisher.getPublic(), trust);
        NodeProcess n = NodeProcess.builder("heap", dir).launcher(Checkout.bin("kgnode")).jar(LauncherRaceTest.kgnodeJar())
                .args("--standalone", "--trust-key", trust.toString(), "--scrub-interval", "0").build();
        n.wrap(List.of(), Map.of("PATH", jdk.resolve("bin") + ":" + System.getenv("PATH"),
                "KGNODE_CDS", "0", "KGNODE_CACHE_DIR", dir.toString()));
        nodes.add(n);
        n.start();
        Awaitility.await("node serving").atMost(NodeProcess.START_DEADLINE).pollInterval(Duration.ofMillis(200)).until(n::up);
        assertThat(Files.readSymbolicLink(Path.of("/proc/" + n.pid() + "/exe"))).as("the node's JVM")
                .isEqualTo(jdk.resolve("bin/java").toRealPath());

        Random random = new Random(18);
        byte[] content = new byte[1024 * 1024];
        for (int version = 1; version <= PUBLISHES; version++) {
            random.nextBytes(content);
            TreeMap<String, byte[]> files = new TreeMap<>();
            files.put("image.bin", content);
            byte[] archive = BundlePacker.pack("big", version, files, BundlePacker.PackOptions.none(), publisher.getPrivate(),
                    Clock.systemUTC());
            assertThat(n.publish("big", archive, Duration.ofSeconds(30))).as("publish " + version).isEqualTo(201);
        }
        assertThat(Files.readAllLines(n.log())).as("the JVM's own warnings (Unsafe, restricted methods on newer JDKs)")
                .noneMatch(l -> l.startsWith("WARNING:"));
        // after the burst, small publishes as a quiet node sees (each a few young collections): the heap
        // comes back near what is held; the growth of a young collection is looked at in the next one
        long[] nudges = {0};
        java.util.concurrent.atomic.AtomicReference<MetricsPage> last = new java.util.concurrent.atomic.AtomicReference<>();
        Awaitility.await("heap committed back under " + HEAP_BOUND / (1024 * 1024) + " MiB (bytes)")
                .atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
                    nudges[0]++;
                    TreeMap<String, byte[]> small = new TreeMap<>();
                    small.put("config.ini", ("n=" + nudges[0] + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    assertThat(n.publish("nudge", BundlePacker.pack("nudge", nudges[0], small, BundlePacker.PackOptions.none(),
                            publisher.getPrivate(), Clock.systemUTC()), Duration.ofSeconds(30))).isEqualTo(201);
                    last.set(MetricsPage.of(n));
                    return last.get().value("jvm_memory_committed_bytes", "area=\"heap\"").orElseThrow();
                }, heap -> heap < HEAP_BOUND);
        return last.get();
    }

    /** A JDK under /usr/lib/jvm whose feature version is 23 or later ({@code newer}), or older. */
    private static Optional<Path> jdk(boolean newer) throws IOException {
        Path root = Path.of("/usr/lib/jvm");
        if (!Files.isDirectory(root)) {
            return Optional.empty();
        }
        try (Stream<Path> dirs = Files.list(root)) {
            return dirs.filter(d -> Files.isExecutable(d.resolve("bin/java")))
                    .filter(d -> feature(d).map(f -> newer == (f >= FIRST_WITHOUT_THE_RULE)).orElse(false))
                    .sorted().findFirst();
        }
    }

    /** The feature version in a JDK's {@code release} file ({@code JAVA_VERSION="25.0.3"} gives 25). */
    private static Optional<Integer> feature(Path jdk) {
        try {
            Matcher m = Pattern.compile("(?m)^JAVA_VERSION=\"(\\d+)").matcher(Files.readString(jdk.resolve("release")));
            return m.find() ? Optional.of(Integer.parseInt(m.group(1))) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
