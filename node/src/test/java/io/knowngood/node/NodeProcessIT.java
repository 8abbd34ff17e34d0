package io.knowngood.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.knowngood.api.ApiJson;
import io.knowngood.api.BehindFloor;
import io.knowngood.api.VmHealth;
import io.knowngood.testkit.Ci;
import io.knowngood.testkit.process.FileTrees;
import io.knowngood.testkit.process.NodeProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real kgnode processes from the shaded jar: serve-first after a restart, a damaged copy on disk,
 * a data dir restored from an older backup.
 */
class NodeProcessIT {

    static final Duration START = Duration.ofSeconds(60);

    final TestBundles bundles = new TestBundles();

    /** Options like bin/kgnode's, with C1 only, as every test node runs (quicker to start on 2 cores). */
    static final List<String> LAUNCHER_JVM = List.of("-Xmx128m", "-Xss512k", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-Xlog:cds=off", "-Xlog:cds+dynamic=off");

    @BeforeAll
    static void jarBuilt() {
        // under CI=true a missing jar fails the run: a build that skipped its process tests proved nothing
        Assumptions.assumeTrue(Ci.available(NodeProcess.jarMissing()), NodeProcess.jarMissing());
    }

    private NodeProcess node(Path dir, String... extra) throws IOException {
        Path trust = bundles.writePublicKey(dir);
        return NodeProcess.builder("proc-node", dir).jvmFlags(LAUNCHER_JVM).dataDir(dir.resolve("data")).log(dir.resolve("node.log"))
                .args("--floor-file", dir.resolve("floor").toString(), "--trust-key", trust.toString(), "--scrub-interval", "0")
                .args(extra).build();
    }

    private static int publish(NodeProcess n, String name, byte[] archive) throws IOException, InterruptedException {
        return n.publish(name, archive, Duration.ofSeconds(30));
    }

    /** The VM endpoint's health, read as the contract's record. */
    private static VmHealth health(NodeProcess n) throws Exception {
        ApiJson.Decoded<VmHealth> d = ApiJson.decode(n.get("/v1/health").body(), VmHealth.class);
        assertThat(d).isInstanceOf(ApiJson.Decoded.Body.class);
        return ((ApiJson.Decoded.Body<VmHealth>) d).value();
    }

    /** Serving (health 200) and taking publishes: the admin endpoint may open after the VM endpoint. */
    private static void awaitServing(NodeProcess n) {
        await().atMost(START).pollInterval(Duration.ofMillis(50)).until(() -> n.serving());
    }

    /** Up and answering, whatever its health says. */
    private static void awaitUp(NodeProcess n) {
        await().atMost(START).pollInterval(Duration.ofMillis(50)).until(() -> {
            try {
                return n.get("/v1/health").statusCode() > 0;
            } catch (IOException e) {
                return false;
            }
        });
    }

    @Test
    void restartWithNoReachablePeer_servesItsBundlesFromDiskWithinASecond(@TempDir Path dir) throws Exception {
        // A real mesh whose only peer never answers: joining goes on in the background, forever.
        int deadPeer = NodeProcess.freePort();
        int own = NodeProcess.freePortOtherThan(deadPeer);
        try (NodeProcess n = node(dir, "--mesh-timings", "local-testing", "--cluster-bind", "127.0.0.1:" + own,
                "--peers", "127.0.0.1:" + deadPeer)) {
            Path jsa = dir.resolve("kgnode.jsa");
            n.extraJvmArgs(List.of("-XX:ArchiveClassesAtExit=" + jsa));
            n.start();
            awaitServing(n);
            assertThat(publish(n, "boot", bundles.bundle("boot", 1, "first"))).isEqualTo(201);
            assertThat(publish(n, "boot", bundles.bundle("boot", 2, "second"))).isEqualTo(201);
            n.stop();

            // As bin/kgnode runs it: with the AppCDS archive the first run wrote.
            List<String> jvm = Files.isRegularFile(jsa) ? List.of("-XX:SharedArchiveFile=" + jsa, "-Xshare:auto") : List.of();
            n.extraJvmArgs(jvm);
            long t0 = n.start();
            await().atMost(START).pollInterval(Duration.ofMillis(5)).until(() -> n.answers200("/v1/bundles/boot"));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            String jvmFigure = lastMatch(n.log(), Pattern.compile("serving \\d+ bundles from .*: (\\d+) ms after JVM start"));
            System.out.printf("restart with no reachable peer: first 200 of a bundle %d ms after process start "
                    + "(node reports serving %s ms after JVM start; CDS archive %s)%n", ms, jvmFigure, jvm.isEmpty() ? "absent" : "used");
            Files.copy(n.log(), Path.of("target", "NodeProcessIT-restart.log"), StandardCopyOption.REPLACE_EXISTING);
            HttpResponseCheck.version(n.get("/v1/bundles/boot"), 2);
            assertThat(n.get("/v1/bundles/boot").headers().firstValue("X-Knowngood-In-Touch")).hasValue("false");
            // Loose: the figure is printed; the machine running the suite is shared and noisy.
            assertThat(ms).isLessThan(8_000);
            assertThat(health(n).cluster().inTouch()).isFalse();
        }
    }

    @Test
    void damagedNewestCopy_isDetectedReportedAndThePreviousVersionServed(@TempDir Path dir) throws Exception {
        try (NodeProcess n = node(dir, "--standalone")) {
            n.start();
            awaitServing(n);
            assertThat(publish(n, "app", bundles.bundle("app", 1, "one"))).isEqualTo(201);
            assertThat(publish(n, "app", bundles.bundle("app", 2, "two"))).isEqualTo(201);
            n.stop();

            Path v2 = n.dataDir().resolve("bundles/app/0000000000000000002.tar");
            byte[] bytes = Files.readAllBytes(v2);
            bytes[bytes.length / 3] ^= 0x5a; // bit rot inside the archive
            Files.write(v2, bytes);

            n.start();
            awaitServing(n);
            HttpResponseCheck.version(n.get("/v1/bundles/app"), 1);
            VmHealth health = health(n);
            assertThat(health.store().errors()).isGreaterThanOrEqualTo(1);
            assertThat(health.store().behindFloor().get(0).floor()).isEqualTo(2);
            assertThat(n.adminGet("/metrics").body()).containsPattern("kgnode_lkg_store_errors_total\\{kind=\"damaged_copy\"} [1-9]");
            try (Stream<Path> q = Files.list(n.dataDir().resolve("quarantine"))) {
                assertThat(q.map(p -> p.getFileName().toString())).anyMatch(f -> f.startsWith("app@2-"));
            }
            // The damaged version cannot be re-published with other content, but its exact copy is welcome back.
            assertThat(publish(n, "app", bundles.bundle("app", 2, "not two"))).isEqualTo(409);
            assertThat(publish(n, "app", bundles.bundle("app", 2, "two"))).isEqualTo(201);
            HttpResponseCheck.version(n.get("/v1/bundles/app"), 2);
        }
    }

    @Test
    void dataDirRestoredFromAnOlderBackup_doesNotRollBack(@TempDir Path dir) throws Exception {
        try (NodeProcess n = node(dir, "--standalone")) {
            n.start();
            awaitServing(n);
            assertThat(publish(n, "cfg", bundles.bundle("cfg", 1, "one"))).isEqualTo(201);
            n.stop();
            Path backup = dir.resolve("backup");
            FileTrees.copy(n.dataDir(), backup);

            n.start();
            awaitServing(n);
            assertThat(publish(n, "cfg", bundles.bundle("cfg", 2, "two"))).isEqualTo(201);
            n.stop();

            FileTrees.delete(n.dataDir());
            FileTrees.copy(backup, n.dataDir()); // the operator restores last week's backup; the floor file stays
            n.start();
            awaitUp(n);
            assertThat(n.get("/v1/health").statusCode()).isEqualTo(503);
            // Version 1 was superseded by version 2 here: serving it again would be a rollback.
            assertThat(n.get("/v1/bundles/cfg").statusCode()).isEqualTo(503);
            VmHealth health = health(n);
            assertThat(health.serving()).isFalse();
            assertThat(health.store().behindFloor()).containsExactly(new BehindFloor("cfg", 1, 2, false, "missing"));
            // Version 2 with other content, or anything at or below 2, is a rollback.
            assertThat(publish(n, "cfg", bundles.bundle("cfg", 2, "forged two"))).isEqualTo(409);
            assertThat(publish(n, "cfg", bundles.bundle("cfg", 1, "one again"))).isEqualTo(409);
            assertThat(n.get("/v1/bundles/cfg").statusCode()).isEqualTo(503);
            // The exact version 2 (as a peer would supply it) is welcome back; newer ones as usual.
            assertThat(publish(n, "cfg", bundles.bundle("cfg", 2, "two"))).isEqualTo(201);
            HttpResponseCheck.version(n.get("/v1/bundles/cfg"), 2);
            assertThat(n.get("/v1/health").statusCode()).isEqualTo(200);
            assertThat(publish(n, "cfg", bundles.bundle("cfg", 3, "three"))).isEqualTo(201);
            HttpResponseCheck.version(n.get("/v1/bundles/cfg"), 3);
        }
    }

    private static String lastMatch(Path log, Pattern p) throws IOException {
        String found = "?";
        for (String line : Files.readAllLines(log)) {
            Matcher m = p.matcher(line);
            if (m.find()) {
                found = m.group(1);
            }
        }
        return found;
    }

    /** Small assertion on a bundle response. */
    static final class HttpResponseCheck {
        static void version(java.net.http.HttpResponse<byte[]> r, long expected) {
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("X-Knowngood-Version")).hasValue(Long.toString(expected));
        }
    }
}
