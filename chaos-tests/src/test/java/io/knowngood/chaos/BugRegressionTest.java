package io.knowngood.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.api.ClusterView;
import io.knowngood.crypto.bundle.BundlePacker;
import io.knowngood.crypto.bundle.BundleVerifier;
import io.knowngood.crypto.bundle.Ed25519Keys;
import io.knowngood.crypto.bundle.Limits;
import io.knowngood.crypto.bundle.Sha256;
import io.knowngood.crypto.bundle.TrustedKeys;
import io.knowngood.crypto.bundle.VerifyResult;
import io.knowngood.testkit.Ci;
import io.knowngood.testkit.cluster.ChaosCluster;
import io.knowngood.testkit.fault.NetworkFaults;
import io.knowngood.testkit.process.NodeProcess;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One scenario per bug in the "Bugs found" table of docs/chaos.md, each named after its bug and
 * written so that it fails if the bug comes back. Real kgnode processes and real iptables, like the
 * chaos tiers; under CI=true a missing prerequisite fails instead of skipping.
 */
class BugRegressionTest {

    @BeforeAll
    static void jarBuilt() {
        Assumptions.assumeTrue(Ci.available(NodeProcess.jarMissing()), NodeProcess.jarMissing());
    }

    /**
     * Bug: a byte flipped in a tar header's padding of a stored copy still verified (signatures cover
     * the manifest and the files, not tar padding), so a node served bytes that differed from what it
     * had accepted. Since then the verifier also checks tar header checksums, so the damage here is
     * the one that still verifies: a padding byte flipped and the header checksum fixed up. The node
     * must never serve those bytes; it may withhold the bundle or fall back to version 1.
     */
    @Test
    void tarHeaderPaddingFlippedInAStoredCopy_isNeverServed(@TempDir Path dir) throws Exception {
        KeyPair publisher = Ed25519Keys.generate();
        Path trust = dir.resolve("publisher.pub");
        Ed25519Keys.writePublicPem(publisher.getPublic(), trust);
        byte[] v1 = pack(publisher, "pad", 1);
        byte[] v2 = pack(publisher, "pad", 2);
        try (NodeProcess n = NodeProcess.builder("pad", dir).args("--standalone", "--trust-key", trust.toString()).build()) {
            n.start();
            ChaosCluster.awaitUp(n);
            assertThat(n.publish("pad", v1, Duration.ofSeconds(30))).isEqualTo(201);
            assertThat(n.publish("pad", v2, Duration.ofSeconds(30))).isEqualTo(201);
            n.kill9();

            Path stored = n.dataDir().resolve("bundles/pad/0000000000000000002.tar");
            byte[] damaged = Files.readAllBytes(stored);
            assertThat(Sha256.hex(damaged)).as("the store keeps the exact archive accepted").isEqualTo(Sha256.hex(v2));
            flipHeaderPaddingKeepingTheChecksum(damaged, lastHeader(damaged));
            BundleVerifier verifier = new BundleVerifier(TrustedKeys.of(List.of(publisher.getPublic())), Limits.defaults());
            assertThat(verifier.verify(damaged)).as("the damage must still verify, else this test proves nothing")
                    .isInstanceOf(VerifyResult.Verified.class);
            Files.write(stored, damaged);

            n.start();
            ChaosCluster.awaitUp(n);
            HttpResponse<byte[]> served = Awaitility.await("a bundle served").atMost(NodeProcess.START_DEADLINE)
                    .pollInterval(Duration.ofMillis(100)).until(() -> n.get("/v1/bundles/pad"), r -> r.statusCode() == 200);
            // compared by SHA-256, so that a failure prints three digests, not three archives
            assertThat(Sha256.hex(served.body())).as("SHA-256 of the served bytes (damaged copy: %s)", Sha256.hex(damaged))
                    .isIn(Sha256.hex(v1), Sha256.hex(v2));
        }
    }

    /**
     * Bug: a second chaos run on the same machine deleted the first one's iptables chain mid-soak.
     * Here a second JVM, as a second run would, sets up, cuts, heals and tears down its own chain
     * while this one holds a rule; the rule must survive.
     */
    @Test
    void secondChaosRunOnTheSameMachine_leavesTheFirstRunsIptablesRulesAlone() throws Exception {
        String why = NetworkFaults.unavailableBecause();
        Assumptions.assumeTrue(Ci.available(why), why);
        NetworkFaults.setUp();
        try {
            NetworkFaults.drop("127.0.0.241", "127.0.0.242");
            Process second = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), SecondRun.class.getName())
                    .redirectErrorStream(true).start();
            String out = new String(second.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(second.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(second.exitValue()).as(out).isZero();
            assertThat(NetworkFaults.dropping("127.0.0.241", "127.0.0.242")).as("this run's rule after the other run's teardown").isTrue();
            assertThat(out).as("the other run's chain").doesNotContain(NetworkFaults.chain());
        } finally {
            NetworkFaults.tearDown();
        }
    }

    /** The second run: what ChaosRun does with NetworkFaults, in a JVM of its own. */
    static final class SecondRun {
        public static void main(String[] args) throws IOException {
            System.out.println("second run uses chain " + NetworkFaults.chain());
            NetworkFaults.setUp();
            NetworkFaults.drop("127.0.0.243", "127.0.0.244");
            NetworkFaults.healAll();
            NetworkFaults.tearDown();
        }
    }

    /**
     * Bug: a second {@code mvn verify} without {@code clean} failed, because the previous run's
     * rollback floors (correctly) refused the new run's version 1. A cluster started in the same
     * directory, with a new publisher key, must accept version 1 again.
     */
    @Test
    void secondRunWithoutClean_isNotRefusedByThePreviousRunsRollbackFloors() throws Exception {
        Path dir = Path.of("target", "regression", "second-run").toAbsolutePath();
        try (ChaosCluster first = new ChaosCluster(dir, NodeProcess.jar(), 1, 36, 17700)) {
            first.startAll();
            assertThat(first.publish(first.node(0), "floor", first.pack("floor", 5))).isEqualTo(201);
        }
        try (ChaosCluster second = new ChaosCluster(dir, NodeProcess.jar(), 1, 36, 17700)) {
            second.startAll();
            assertThat(second.publish(second.node(0), "floor", second.pack("floor", 1))).isEqualTo(201);
            assertThat(second.fetch(second.node(0), "floor").version()).isEqualTo(1);
        }
    }

    /** The node's failpoint (issue 13): holds the cache start this long after the channel connected, and logs this name once. */
    static final String CACHE_START_DELAY = "knowngood.failpoint.cacheStartDelayMs";

    /**
     * Bug: a restarted node's Infinispan cache start could hang for minutes, and meanwhile every
     * anti-entropy message to it was dropped ("fork-channel for id=anti-entropy not found"), so no peer
     * could refill it. Here the hang is made on purpose: the node restarts with its cache start held
     * 30 s by the failpoint, after a version was published while it was down. It must serve that
     * version within 8 s of its start, i.e. refilled by anti-entropy while its cache has not started.
     * The failpoint's log line is required, so the test fails (instead of passing for the wrong reason)
     * on a node without the failpoint.
     */
    @Test
    void restartedNodeWhoseCacheStartHangs_isRefilledByAntiEntropyMeanwhile() throws Exception {
        Path dir = Path.of("target", "regression", "cache-start-hang").toAbsolutePath();
        try (ChaosCluster c = new ChaosCluster(dir, NodeProcess.jar(), 3, 46, 17750)) {
            c.startAll();
            assertThat(c.publish(c.node(0), "hang", c.pack("hang", 1))).isEqualTo(201);
            Awaitility.await("v1 everywhere").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                    .until(() -> c.nodes().stream().allMatch(n -> c.fetch(n, "hang").version() >= 1));
            NodeProcess victim = c.node(2);
            victim.kill9();
            assertThat(c.publish(c.node(0), "hang", c.pack("hang", 2))).as("publish while %s is down", victim.id()).isEqualTo(201);

            victim.extraJvmArgs(List.of("-D" + CACHE_START_DELAY + "=30000"));
            long logFrom = Files.size(victim.log());
            long started = victim.start();
            boolean refilled;
            try {
                Awaitility.await(victim.id() + " serves v2").atMost(Duration.ofSeconds(8).minusNanos(System.nanoTime() - started))
                        .pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(50))
                        .until(() -> c.fetch(victim, "hang").version() >= 2);
                refilled = true;
            } catch (ConditionTimeoutException e) {
                refilled = false;
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            List<String> atRefill = nodeLinesSince(victim.log(), logFrom);

            assertThat(refilled).as("%s served v2 within 8 s of its start (%.1f s passed; it serves v%d), while its cache start was held",
                    victim.id(), seconds, c.fetch(victim, "hang").version()).isTrue();
            assertThat(atRefill).as("%s's log when it served v2: its cache had not started yet", victim.id())
                    .noneMatch(l -> l.contains("-> READY"));
            // the failpoint's line may come a little after the refill (it is logged where the hold begins)
            List<String> lines = Awaitility.await(victim.id() + " logs the failpoint (else the cache was not held and this proves nothing)")
                    .atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                    .until(() -> nodeLinesSince(victim.log(), logFrom), l -> l.stream().anyMatch(x -> x.contains(CACHE_START_DELAY)));
            assertThat(lines).as("%s's log: the cache was held by the failpoint and had not started", victim.id())
                    .noneMatch(l -> l.contains("-> READY"));
        }
    }

    /** Archives a stuck member's peer publishes toward it: 8 of 900 KiB, more than Linux's largest default send buffer (4 MiB) and MFC's credits. */
    static final int STUCK_BIG_ARCHIVES = 8;
    static final int STUCK_BIG_BYTES = 900 * 1024;

    /**
     * Bug: a member that stops acknowledging (its packets dropped both ways) while it is still in a
     * node's view held that node's traffic to every other member. The coordinator A and a member B
     * last in the view are cut from each other; B keeps A in its view (it cannot take over: C is next
     * in line and still hears A). B then multicast more than its send buffer to A and MFC's credits
     * held: its one bundler thread waited in the TLS write to A, and its publishes waited in MFC for
     * credits A never sent. For 27-29 s B sent nothing to anyone (C excluded it for silence) and its
     * own publishes took as long to be stored (soak 2026-12-06, seed 20261208: a relay 13.7 s late).
     * B must store its publishes within 8 s and C serve B's next publish within 4 s.
     */
    @Test
    void aMemberCutOffButStillInView_doesNotHoldTheNodesTrafficToTheOthers() throws Exception {
        String why = NetworkFaults.unavailableBecause();
        Assumptions.assumeTrue(Ci.available(why), why);
        String chromium = Ci.missingTools("chromium");
        Assumptions.assumeTrue(Ci.available(chromium), chromium);
        Path dir = Path.of("target", "regression", "stuck-member").toAbsolutePath();
        NetworkFaults.setUp();
        ChaosCluster c = null;
        try {
            // a publish holds a worker thread until every member in view holds it (A never will): room for all at once
            c = new ChaosCluster(dir, NodeProcess.jar(), 3, 171, 19800, List.of("--worker-threads", String.valueOf(STUCK_BIG_ARCHIVES + 2)));
            ChaosCluster cluster = c;
            cluster.startAll();
            List<NodeProcess> inView = viewOrder(cluster);
            NodeProcess a = inView.get(0);
            NodeProcess via = inView.get(1);
            NodeProcess b = inView.get(2);
            List<byte[]> big = new ArrayList<>();
            SplittableRandom random = new SplittableRandom(20261206);
            for (int i = 0; i < STUCK_BIG_ARCHIVES; i++) {
                byte[] noise = new byte[STUCK_BIG_BYTES];
                random.nextBytes(noise);
                TreeMap<String, byte[]> files = new TreeMap<>();
                files.put("blob.bin", noise);
                big.add(cluster.pack("big-" + i, 1, files));
            }

            NetworkFaults.drop(a.ip(), b.ip());
            NetworkFaults.drop(b.ip(), a.ip());
            long t0 = System.nanoTime();
            List<CompletableFuture<Integer>> publishes = new ArrayList<>();
            for (int i = 0; i < STUCK_BIG_ARCHIVES; i++) {
                int k = i;
                publishes.add(CompletableFuture.supplyAsync(() -> cluster.publish(b, "big-" + k, big.get(k))));
            }
            boolean stored = awaited(Duration.ofSeconds(8), () -> IntStream.range(0, STUCK_BIG_ARCHIVES)
                    .allMatch(i -> cluster.fetch(b, "big-" + i).version() >= 1));
            long storedMs = (System.nanoTime() - t0) / 1_000_000;
            long t1 = System.nanoTime();
            publishes.add(CompletableFuture.supplyAsync(() -> cluster.publish(b, "probe", cluster.pack("probe", 1))));
            boolean relayed = awaited(Duration.ofSeconds(4), () -> cluster.fetch(via, "probe").version() >= 1);
            long relayedMs = (System.nanoTime() - t1) / 1_000_000;
            String bView = cluster.clusterView(b).map(v -> v.members().stream().map(ClusterView.Member::id).toList().toString()).orElse("?");
            System.out.printf("stuck member: A=%s B=%s C=%s; B stored its %d publishes: %b (%d ms); C served B's probe: %b (%d ms); B's view %s%n",
                    a.id(), b.id(), via.id(), STUCK_BIG_ARCHIVES, stored, storedMs, relayed, relayedMs, bView);
            assertThat(stored).as("%s (cut from %s) stored its own %d publishes within 8 s", b.id(), a.id(), STUCK_BIG_ARCHIVES).isTrue();
            assertThat(relayed).as("%s (cut from %s, view %s) published a probe; %s serves it within 4 s", b.id(), a.id(), bView, via.id())
                    .isTrue();
            CompletableFuture.allOf(publishes.toArray(CompletableFuture[]::new)).join();

            // What an operator sees meanwhile: B names A silent and reads itself partitioned; C, which hears both, does not.
            Awaitility.await(b.id() + " marks " + a.id() + " silent").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                    .until(() -> cluster.clusterView(b).orElseThrow(), v -> silentIn(v).equals(List.of(a.id())) && v.partitioned()
                            && v.state().equals("PARTITIONED") && !v.inTouch());
            assertThat(b.adminGet("/metrics").body()).contains("kgnode_cluster_members_silent 1.0", "kgnode_cluster_partitioned 1.0");
            String explain = b.adminGet("/v1/explain/probe").body();
            assertThat(explain).as("B's explain names A down and silent").containsPattern("\\{\"kind\":\"peer\",\"name\":\""
                    + a.id() + "\",\"status\":\"down\",\"detail\":\"in view at [^\"]* but silent");
            String page = HeadlessChromium.run(dir, "--dump-dom", b.adminUrl() + "/#token=" + ChaosCluster.TOKEN);
            assertThat(page).as("B's status page marks A's row").contains("<tr data-host=\"" + a.id() + "\" class=\"silent\">")
                    .doesNotContain("<tr data-host=\"" + via.id() + "\" class=\"silent\">");
            ClusterView cView = cluster.clusterView(via).orElseThrow();
            assertThat(silentIn(cView)).as("%s hears both", via.id()).isEmpty();
            NetworkFaults.healAll();
            Awaitility.await(b.id() + " hears " + a.id() + " again").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
                    .until(() -> cluster.clusterView(b).orElseThrow(), v -> silentIn(v).isEmpty() && !v.partitioned()
                            && v.members().size() == 3);
        } finally {
            NetworkFaults.closeHealed(c);
            if (c == null) {
                NetworkFaults.tearDown();
            }
        }
    }

    private static List<String> silentIn(ClusterView v) {
        return v.members().stream().filter(ClusterView.Member::silent).map(ClusterView.Member::id).toList();
    }

    /** The nodes in the order of the view every node holds, the coordinator first. */
    private static List<NodeProcess> viewOrder(ChaosCluster c) {
        List<String> ids = Awaitility.await("one view of all three on every node").atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(200))
                .until(() -> {
                    List<List<String>> views = c.nodes().stream().map(n -> c.clusterView(n)
                            .map(v -> v.members().stream().map(ClusterView.Member::id).toList()).orElse(List.of())).toList();
                    return views.stream().distinct().count() == 1 && views.get(0).size() == 3 ? views.get(0) : List.<String>of();
                }, v -> !v.isEmpty());
        return ids.stream().map(id -> c.nodes().stream().filter(n -> n.id().equals(id)).findFirst().orElseThrow()).toList();
    }

    /** Whether {@code condition} held within {@code atMost}, polled every 50 ms. */
    private static boolean awaited(Duration atMost, Callable<Boolean> condition) {
        try {
            Awaitility.await().atMost(atMost).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(50)).until(condition);
            return true;
        } catch (ConditionTimeoutException e) {
            return false;
        }
    }

    /** What the node wrote to its log after {@code from}, without the harness's "---- start" lines (they name the -D flag too). */
    private static List<String> nodeLinesSince(Path log, long from) throws IOException {
        byte[] all = Files.readAllBytes(log);
        String text = new String(all, (int) Math.min(from, all.length), (int) Math.max(0, all.length - from), StandardCharsets.UTF_8);
        return text.lines().filter(l -> !l.startsWith("---- start")).toList();
    }

    private static byte[] pack(KeyPair publisher, String name, long version) {
        TreeMap<String, byte[]> files = new TreeMap<>();
        files.put("config.ini", ("[bundle]\nname=" + name + "\nversion=" + version + "\n").getBytes(StandardCharsets.UTF_8));
        return BundlePacker.pack(name, version, files, Map.of(), publisher.getPrivate(), Clock.systemUTC());
    }

    /** Offset of the archive's last ustar header (its last file entry). */
    private static int lastHeader(byte[] tar) {
        List<Integer> headers = new ArrayList<>();
        for (int off = 0; off + 512 <= tar.length; off += 512) {
            if (Arrays.equals(tar, off + 257, off + 262, "ustar".getBytes(StandardCharsets.US_ASCII), 0, 5)) {
                headers.add(off);
            }
        }
        assertThat(headers).isNotEmpty();
        return headers.get(headers.size() - 1);
    }

    /** Flips a byte in the header's 12 padding bytes (500-511) and rewrites the header checksum to match. */
    private static void flipHeaderPaddingKeepingTheChecksum(byte[] tar, int header) {
        tar[header + 505] ^= 0x5a;
        long sum = 0;
        for (int i = 0; i < 512; i++) {
            sum += i >= 148 && i < 156 ? ' ' : tar[header + i] & 0xff;
        }
        byte[] field = String.format("%06o\0 ", sum).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(field, 0, tar, header + 148, 8);
    }
}
