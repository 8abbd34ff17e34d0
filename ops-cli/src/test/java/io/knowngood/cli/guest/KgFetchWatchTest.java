package io.knowngood.cli.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.knowngood.cli.bundle.BundleFixture;
import io.knowngood.cli.node.CannedNode;
import io.knowngood.node.TestNode;
import io.knowngood.testkit.Ci;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * {@code kg-fetch.sh --watch} against a real node (in process): each version published while it
 * watches is verified, installed, health-checked and reported in turn; a node killed and started
 * again on the same port and data dir is waited out with the last version kept, and watching goes
 * on; a failed health command is reported and watching goes on; a 404, or a hostile host answering
 * a tampered version at once, is said plainly and retried with backoff, not in a busy loop; SIGTERM ends it at once
 * with exit 0, its parked long-poll's curl included. Runs under dash; {@link KgFetchWatchBusyboxTest} runs it
 * under busybox sh with busybox applets only.
 */
@Execution(ExecutionMode.CONCURRENT) // see junit-platform.properties
class KgFetchWatchTest {
    private static final Path SCRIPT = Path.of("..", "guest", "kg-fetch.sh").toAbsolutePath().normalize();
    private static final Duration APPLIED = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private GuestShell shell;
    private BundleFixture bundles;
    private TestNode node;
    private Path target;
    private Path log;
    private Path healthLog;
    private Process watcher;

    @BeforeAll
    static void needsTools() {
        String missing = GuestShell.missing("dash");
        assumeTrue(Ci.available(missing), missing);
    }

    GuestShell shell(Path binDir) throws Exception {
        return GuestShell.dash();
    }

    @BeforeEach
    void setUp() throws Exception {
        shell = shell(dir.resolve("bin"));
        bundles = new BundleFixture(dir);
        node = TestNode.start(dir.resolve("node"), bundles.pub);
        target = dir.resolve("vm/etc/kg/desktop-base");
        log = dir.resolve("watch.log");
        healthLog = dir.resolve("health.log");
    }

    @AfterEach
    void tearDown() throws Exception {
        if (watcher != null && watcher.isAlive()) {
            // The whole family, not the shell alone: a killed shell's round subshell and curl lived on and
            // wrote into the temp dir while JUnit deleted it (a clean-clone CI run failed so).
            List<ProcessHandle> family = new ArrayList<>(watcher.descendants().toList());
            family.add(watcher.toHandle());
            family.forEach(ProcessHandle::destroyForcibly);
            await("the watcher and its children ended").atMost(Duration.ofSeconds(10))
                    .until(() -> family.stream().noneMatch(ProcessHandle::isAlive));
        }
        node.close();
    }

    /** Starts the script watching desktop-base at the node's port, its output going to {@link #log}. */
    private void watch(int port) throws IOException {
        watch("http://127.0.0.1:" + port, "true");
    }

    /** Watches at {@code url}; the health command logs the version, then runs {@code verdict} (its exit status counts). */
    private void watch(String url, String verdict) throws IOException {
        List<String> args = new ArrayList<>(List.of("-n", "desktop-base", "-d", target.toString(), "-u", url,
                "-k", bundles.pub.toString(), "-t", "1", "--watch", "--wait", "10",
                "-c", "echo \"$KG_VERSION\" >> '" + healthLog + "'; echo \"version $KG_VERSION up\"; " + verdict));
        ProcessBuilder pb = shell.run(SCRIPT, args).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("KG_RETRY_BASE", "1");
        pb.environment().put("KG_RETRY_MAX", "2");
        watcher = pb.start();
    }

    private String output() throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    private void publish(long version) throws Exception {
        Files.writeString(bundles.src.resolve("readme.txt"), "v" + version);
        assertThat(node.publish("desktop-base", Files.readAllBytes(bundles.pack("desktop-base", version))).statusCode()).isEqualTo(201);
    }

    private String heldVersion() throws IOException {
        Path state = target.resolveSibling(".desktop-base.kg-state");
        return Files.exists(state) ? Files.readString(state).split(" ")[0] : "";
    }

    /** Waits until the script has installed {@code version}, run the health command and had the node take the report. */
    private void awaitApplied(long version) {
        await().atMost(APPLIED).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
            assertThat(watcher.isAlive()).as(output()).isTrue();
            assertThat(output()).contains("installed desktop-base version " + version, "reported ok for desktop-base version " + version);
        });
        try {
            assertThat(heldVersion()).isEqualTo(Long.toString(version));
            assertThat(Files.readString(target.resolve("readme.txt"))).isEqualTo("v" + version);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private double metric(TestNode n, String name, String labels) throws Exception {
        String metrics = n.adminGet("/metrics").body();
        Matcher m = Pattern.compile("^" + Pattern.quote(name + labels) + " (\\S+)$", Pattern.MULTILINE).matcher(metrics);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    private List<String> healthRuns() throws IOException {
        return Files.exists(healthLog) ? Files.readAllLines(healthLog) : List.of();
    }

    @Test
    void watch_appliesEachVersionInTurn_reportsIt_thenWaitsOutANodeRestart() throws Exception {
        publish(1);
        watch(node.vmPort());
        awaitApplied(1);

        publish(2);
        awaitApplied(2);
        publish(3);
        awaitApplied(3);

        assertThat(healthRuns()).containsExactly("1", "2", "3");
        assertThat(metric(node, "kgnode_vm_reports_total", "{result=\"ok\"}")).isEqualTo(3.0);

        int port = node.vmPort();
        node.close();
        await().atMost(APPLIED).untilAsserted(() -> assertThat(output()).contains("unreachable", "still watching desktop-base; trying again in"));
        assertThat(watcher.isAlive()).isTrue();
        assertThat(heldVersion()).isEqualTo("3");
        assertThat(Files.readString(target.resolve("readme.txt"))).isEqualTo("v3");

        node = TestNode.start(dir.resolve("node"), bundles.pub, s -> s.vmBind = List.of("127.0.0.1:" + port));
        // back on its long-poll after the version it keeps: nothing is installed again, nothing re-reported
        await().atMost(APPLIED).until(() -> metric(node, "kgnode_long_poll_waiters", "") == 1.0);
        assertThat(healthRuns()).containsExactly("1", "2", "3");

        publish(4);
        awaitApplied(4);
        assertThat(healthRuns()).containsExactly("1", "2", "3", "4");
        assertThat(metric(node, "kgnode_vm_reports_total", "{result=\"ok\"}")).isEqualTo(1.0);
        try (Stream<Path> left = Files.list(target.getParent())) {
            assertThat(left.map(p -> p.getFileName().toString()).filter(n -> !n.equals("desktop-base")))
                    .as("the state file and the watcher's own temp dir, nothing left over").hasSize(2).contains(".desktop-base.kg-state");
        }
    }

    @Test
    void watch_noSuchBundle_saysSo_backsOff_thenTakesTheFirstVersion() throws Exception {
        long started = System.nanoTime();
        watch(node.vmPort());

        await().atMost(APPLIED).until(() -> count(output(), "has no desktop-base for this VM") >= 3);
        Duration tookForThree = Duration.ofNanos(System.nanoTime() - started);

        String out = output();
        assertThat(out).contains("(no such bundle, not for this VM's pools, or retired)", "still watching desktop-base; trying again in");
        // pauses of 1 s then 2 s at least (base 1, doubling, capped at 2): not a busy loop
        assertThat(tookForThree).isGreaterThanOrEqualTo(Duration.ofSeconds(3));
        assertThat(count(out, "has no desktop-base")).isLessThanOrEqualTo(5);
        assertThat(target).doesNotExist();

        publish(1);
        awaitApplied(1);
    }

    @Test
    void watch_sigterm_endsAtOnce_exit0_curlAndTempDirGone() throws Exception {
        publish(1);
        watch(node.vmPort());
        awaitApplied(1);
        await().atMost(APPLIED).until(() -> metric(node, "kgnode_long_poll_waiters", "") == 1.0);
        List<ProcessHandle> children = watcher.descendants().toList();
        assertThat(children).as("the round and its curl").isNotEmpty();

        long sent = System.nanoTime();
        watcher.destroy();   // SIGTERM

        assertThat(watcher.waitFor(5, TimeUnit.SECONDS)).as("ended within 5 s of SIGTERM, while its long-poll had 10 s to go").isTrue();
        assertThat(Duration.ofNanos(System.nanoTime() - sent)).isLessThan(Duration.ofSeconds(5));
        assertThat(watcher.exitValue()).as(output()).isZero();
        assertThat(output()).contains("stopped watching desktop-base");
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(children).noneMatch(ProcessHandle::isAlive));
        try (Stream<Path> left = Files.list(target.getParent())) {
            assertThat(left.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("desktop-base", ".desktop-base.kg-state");
        }
        assertThat(Files.readString(target.resolve("readme.txt"))).isEqualTo("v1");
    }

    @Test
    void watch_healthCommandFails_reportedFailed_keepsWatching_nextVersionComes() throws Exception {
        publish(1);
        watch("http://127.0.0.1:" + node.vmPort(), "test \"$KG_VERSION\" != 2");
        awaitApplied(1);

        publish(2);
        await().atMost(APPLIED).untilAsserted(() -> assertThat(output()).contains("reported failed for desktop-base version 2",
                "desktop-base version 2 is in place, but the health command failed (exit 1)"));
        publish(3);
        awaitApplied(3);

        assertThat(healthRuns()).containsExactly("1", "2", "3");
        assertThat(metric(node, "kgnode_vm_reports_total", "{result=\"failed\"}")).isEqualTo(1.0);
        assertThat(metric(node, "kgnode_vm_reports_total", "{result=\"ok\"}")).isEqualTo(2.0);
    }

    @Test
    void watch_hostileHostAnsweringATamperedVersionAtOnce_refusedEachTime_withBackoff_notABusyLoop() throws Exception {
        Path tampered = BundleFixture.tamper(bundles.pack("desktop-base", 1), "hello", "jello");
        try (CannedNode hostile = CannedNode.servingArchive("desktop-base", Files.readAllBytes(tampered))) {
            long started = System.nanoTime();
            watch(hostile.url().toString(), "true");

            await().atMost(APPLIED).until(() -> count(output(), "refused: hash_mismatch: readme.txt") >= 3);

            assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofSeconds(3));
            assertThat(hostile.requests()).isLessThanOrEqualTo(5);
            assertThat(watcher.isAlive()).isTrue();
            assertThat(target).doesNotExist();
            assertThat(healthRuns()).isEmpty();
        }
    }

    private static int count(String haystack, String needle) {
        int n = 0;
        for (int i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }
}
