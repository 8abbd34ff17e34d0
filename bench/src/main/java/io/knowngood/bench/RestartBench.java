package io.knowngood.bench;

import io.knowngood.api.ApiJson;
import io.knowngood.api.VmHealth;
import io.knowngood.testkit.cluster.ChaosCluster;
import io.knowngood.testkit.measure.Percentiles;
import io.knowngood.testkit.process.NodeProcess;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * Restarts in a row: 3 real kgnode processes (TLS mesh, shipped {@code lan} timers); the same node is
 * killed with -9 N times (default 15). Each time, once its peers' views have dropped it, a new version
 * is published on a peer, and the node is started again on its own data dir. Measured from the process
 * start: <b>up</b> (its VM endpoint answers), <b>rejoined</b> (every node's view, from VM health,
 * has all 3 members again) and <b>refilled</b> (it serves the version published while it was down),
 * polled every 50 ms. A restart that has not rejoined or refilled within 60 s is counted and the run
 * goes on with the next one. Per-restart lines go to bench/target/work/restart/restarts.txt, the
 * nodes' logs beside them.
 * Nodes on 127.0.0.121-123 (or {@code -Dchaos.ipBase=N}), cluster ports 19700+, VM 19800+, admin 19900+.
 * {@code -Dbench.restart.victimJvm="..."} adds JVM flags to the restarted node from its first restart
 * on, e.g. {@code -Dknowngood.failpoint.cacheStartDelayMs=30000} to hold its cache start (issue 13's
 * failpoint): refilled then shows anti-entropy refilling a node whose cache has not started.
 * Run: {@code bench/run.sh RestartBench [-Dbench.restarts=15] [-Dbench.restart.node=3] [-Dbench.restart.victimJvm=...]}
 */
public final class RestartBench {
    private static final int RESTARTS = Integer.getInteger("bench.restarts", 15);
    /** Which node (1-3) is restarted every time. */
    private static final int VICTIM = Integer.getInteger("bench.restart.node", 3);
    private static final Duration BOUND = Duration.ofSeconds(60);
    private static final String VICTIM_JVM = System.getProperty("bench.restart.victimJvm", "").trim();
    private static final String NAME = "restart";

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    private RestartBench() {
    }

    public static void main(String[] args) {
        Results.main("RestartBench", args, r -> new RestartBench().measure(r));
    }

    /** One restart; -1 for a time means not within {@link #BOUND}. */
    private record Restart(int index, Instant startedAt, long published, int publishStatus, double upMs, double rejoinedMs,
                           double refilledMs) {
        double worst() {
            return rejoinedMs < 0 || refilledMs < 0 ? Double.MAX_VALUE : Math.max(rejoinedMs, refilledMs);
        }

        String line() {
            return String.format(Locale.ROOT, "restart %d at %s: v%d published while down (%d); up %s, rejoined %s, refilled %s",
                    index, startedAt, published, publishStatus, ms(upMs), ms(rejoinedMs), ms(refilledMs));
        }
    }

    private static String ms(double v) {
        return v < 0 ? "NEVER (60 s)" : String.format(Locale.ROOT, "%.0f ms", v);
    }

    private void measure(Results results) throws Exception {
        if (VICTIM < 1 || VICTIM > 3) {
            throw new IllegalArgumentException("-Dbench.restart.node must be 1, 2 or 3: " + VICTIM);
        }
        int ipBase = ChaosCluster.ipBaseProperty(121);
        results.param("restarts", RESTARTS).param("victim", "n" + VICTIM).param("boundSeconds", BOUND.toSeconds()).param("ipBase", ipBase)
                .param("nodeJvmFlags", System.getProperty("kgnode.jvm", NodeProcess.DEFAULT_JVM)).param("victimJvm", VICTIM_JVM);
        Path dir = Results.workDir("restart");
        List<Restart> restarts = new ArrayList<>();
        try (ChaosCluster c = new ChaosCluster(dir, NodeProcess.jar(), 3, ipBase, 19700)) {
            NodeProcess victim = c.node(VICTIM - 1);
            NodeProcess publisher = c.node(VICTIM % 3);
            c.startAll();
            awaitMembers(c, c.nodes(), 3, BOUND);
            long version = 1;
            if (c.publish(publisher, NAME, c.pack(NAME, version)) != 201) {
                throw new IllegalStateException("first publish refused");
            }
            if (!VICTIM_JVM.isEmpty()) {
                victim.extraJvmArgs(List.of(VICTIM_JVM.split("\\s+")));
            }
            for (int i = 1; i <= RESTARTS; i++) {
                settle(c, victim, version, results, i);
                victim.kill9();
                List<NodeProcess> peers = c.nodes().stream().filter(n -> n != victim).toList();
                if (!awaitMembers(c, peers, 2, Duration.ofSeconds(30))) {
                    results.note("restart " + i + ": the peers' views still had 3 members 30 s after the kill");
                }
                version++;
                int status = c.publish(publisher, NAME, c.pack(NAME, version));
                Restart r = restart(c, victim, i, version, status);
                restarts.add(r);
                System.out.println(r.line());
            }
        }
        Files.writeString(dir.resolve("restarts.txt"), String.join("\n", restarts.stream().map(Restart::line).toList()) + "\n");

        Results.Table t = results.table("kill -9 and restart of n" + VICTIM + ", " + restarts.size()
                        + " times in a row, 3 nodes (TLS mesh, lan timers)" + (VICTIM_JVM.isEmpty() ? "" : ", restarted with " + VICTIM_JVM)
                        + "; ms from the process start",
                "measure", "restarts", "p50", "p95", "max", "never within 60 s");
        row(t, "up (VM endpoint answers)", restarts, Restart::upMs);
        row(t, "rejoined (every view has 3 members)", restarts, Restart::rejoinedMs);
        row(t, "refilled (serves the version published while down)", restarts, Restart::refilledMs);
        Results.Table slow = results.table("the slowest restarts (by the later of rejoined and refilled)",
                "restart", "started at", "up ms", "rejoined ms", "refilled ms");
        restarts.stream().sorted(Comparator.comparingDouble(Restart::worst).reversed()).limit(3)
                .forEach(r -> slow.row(r.index(), r.startedAt().toString(), ms(r.upMs()), ms(r.rejoinedMs()), ms(r.refilledMs())));
        long refused = restarts.stream().filter(r -> r.publishStatus() != 201).count();
        if (refused > 0) {
            results.note(refused + " publishes while the node was down were not answered 201 within 10 s");
        }
        results.note("per-restart lines: " + dir.resolve("restarts.txt"));
    }

    private static void row(Results.Table t, String what, List<Restart> restarts, java.util.function.ToDoubleFunction<Restart> f) {
        Percentiles p = new Percentiles();
        long never = 0;
        for (Restart r : restarts) {
            double v = f.applyAsDouble(r);
            if (v < 0) {
                never++;
            } else {
                p.add(v);
            }
        }
        t.row(what, restarts.size(), String.format(Locale.ROOT, "%.0f", p.pct(50)), String.format(Locale.ROOT, "%.0f", p.pct(95)),
                String.format(Locale.ROOT, "%.0f", p.pct(100)), never);
    }

    /** Starts the node and polls every 50 ms until it is up, rejoined and refilled, or {@link #BOUND} passed. */
    private Restart restart(ChaosCluster c, NodeProcess victim, int index, long version, int publishStatus) throws Exception {
        Instant at = Instant.now();
        long t0 = victim.start();
        double[] up = {-1};
        double[] rejoined = {-1};
        double[] refilled = {-1};
        try {
            Awaitility.await("n" + VICTIM + " rejoined and refilled").atMost(BOUND).pollDelay(Duration.ZERO)
                    .pollInterval(Duration.ofMillis(50)).until(() -> {
                        double now = (System.nanoTime() - t0) / 1e6;
                        if (up[0] < 0 && victim.up()) {
                            up[0] = now;
                        }
                        if (up[0] >= 0 && refilled[0] < 0 && c.fetch(victim, NAME).version() >= version) {
                            refilled[0] = now;
                        }
                        if (up[0] >= 0 && rejoined[0] < 0 && c.nodes().stream().allMatch(n -> members(n) == 3)) {
                            rejoined[0] = now;
                        }
                        return rejoined[0] >= 0 && refilled[0] >= 0;
                    });
        } catch (ConditionTimeoutException e) {
            // counted as never (a time of -1)
        }
        return new Restart(index, at, version, publishStatus, up[0], rejoined[0], refilled[0]);
    }

    /** Before the next kill: every view whole and every node serving the latest version (else noted, and on anyway). */
    private void settle(ChaosCluster c, NodeProcess victim, long version, Results results, int index) {
        try {
            Awaitility.await("mesh settled").atMost(BOUND).pollInterval(Duration.ofMillis(100)).until(() ->
                    c.nodes().stream().allMatch(n -> members(n) == 3 && c.fetch(n, NAME).version() >= version));
        } catch (ConditionTimeoutException e) {
            results.note("before restart " + index + ": the mesh had not settled within 60 s (" + c.nodes().stream()
                    .map(n -> n.id() + " members " + members(n) + " v" + c.fetch(n, NAME).version()).toList() + ")");
        }
    }

    /** Waits until each of {@code nodes} has {@code count} members in view; false when the bound passed. */
    private boolean awaitMembers(ChaosCluster c, List<NodeProcess> nodes, int count, Duration bound) {
        try {
            Awaitility.await(count + " members in view").atMost(bound).pollInterval(Duration.ofMillis(50))
                    .until(() -> nodes.stream().allMatch(n -> members(n) == count));
            return true;
        } catch (ConditionTimeoutException e) {
            return false;
        }
    }

    /** Members in the node's view from its VM health; -1 when it did not answer. */
    private int members(NodeProcess n) {
        try {
            HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create(n.vmUrl() + "/v1/health"))
                    .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
            return ApiJson.decode(r.body(), VmHealth.class) instanceof ApiJson.Decoded.Body<VmHealth> h ? h.value().cluster().members() : -1;
        } catch (java.io.IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }
}
