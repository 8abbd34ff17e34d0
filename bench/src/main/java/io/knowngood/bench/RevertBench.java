package io.knowngood.bench;

import io.knowngood.crypto.bundle.BundlePacker;
import io.knowngood.crypto.bundle.RolloutPolicy;
import io.knowngood.testkit.cluster.ChaosCluster;
import io.knowngood.testkit.measure.Percentiles;
import io.knowngood.testkit.process.NodeProcess;
import io.knowngood.testkit.vm.SimulatedVm;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * Revert latency: 3 real kgnode processes (TLS mesh, shipped {@code lan} timers). Each cycle publishes
 * version N of one bundle with a canary wave of two hosts (n1, n2; revert_failed 2) and waits until
 * both canaries serve it (n3 keeps serving version 1, the only good one); then one VM on each canary
 * reports {@code failed}, the second report (the F-th) alternating between n1 and n2, sent once the
 * other canary has counted the first. Measured from the moment the F-th report was answered 202:
 * <b>reporting canary</b> (the node that got it serves version 1 again) and <b>every canary</b> (both
 * do; the other learns through the mesh records), polled every 5 ms. The
 * goal is p99 <= 2 s for every canary.
 * Nodes on 127.0.0.131-133 (or {@code -Dchaos.ipBase=N}), cluster ports 19300+, VM 19400+, admin 19500+.
 * Run: {@code bench/run.sh RevertBench [-Dbench.cycles=20]}
 */
public final class RevertBench {
    private static final int CYCLES = Integer.getInteger("bench.cycles", 20);
    private static final String NAME = "desk";
    private static final Duration BOUND = Duration.ofSeconds(30);
    private static final java.net.http.HttpClient HTTP = java.net.http.HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    private RevertBench() {
    }

    public static void main(String[] args) {
        Results.main("RevertBench", args, RevertBench::measure);
    }

    private static void measure(Results results) throws Exception {
        int ipBase = ChaosCluster.ipBaseProperty(131);
        results.param("cycles", CYCLES).param("ipBase", ipBase).param("nodeJvmFlags", System.getProperty("kgnode.jvm", NodeProcess.DEFAULT_JVM));
        Percentiles reporting = new Percentiles();
        Percentiles every = new Percentiles();
        List<String> lines = new ArrayList<>();
        int missed = 0;
        try (ChaosCluster c = new ChaosCluster(Results.workDir("revert"), NodeProcess.jar(), 3, ipBase, 19300)) {
            c.startAll();
            NodeProcess n1 = c.node(0);
            NodeProcess n2 = c.node(1);
            publishAndAwait(c, 1, null);
            for (int i = 0; i < CYCLES; i++) {
                long v = i + 2;
                publishAndAwait(c, v, new RolloutPolicy(List.of(new RolloutPolicy.Hosts(List.of(n1.id(), n2.id()))), 1_000, 3_600, 2));
                NodeProcess first = i % 2 == 0 ? n2 : n1;
                NodeProcess last = i % 2 == 0 ? n1 : n2;
                SimulatedVm a = new SimulatedVm("127.0." + (ipBase + 1) + "." + (2 * i + 1), 3_000);
                SimulatedVm b = new SimulatedVm("127.0." + (ipBase + 1) + "." + (2 * i + 2), 3_000);
                check(a.report(first.ip(), first.vmPort(), NAME, v, "failed", "bench"));
                Awaitility.await("the first report is seen by " + last.id()).atMost(BOUND).pollInterval(Duration.ofMillis(20))
                        .until(() -> failedSeen(last, v) >= 1);
                check(b.report(last.ip(), last.vmPort(), NAME, v, "failed", "bench"));
                long t0 = System.nanoTime();
                double[] at = {-1, -1};
                try {
                    Awaitility.await("every canary serves version 1 again").atMost(BOUND).pollDelay(Duration.ZERO)
                            .pollInterval(Duration.ofMillis(5)).until(() -> {
                                double now = (System.nanoTime() - t0) / 1e6;
                                boolean onLast = serves(c, last, 1);
                                if (at[0] < 0 && onLast) {
                                    at[0] = now;
                                }
                                if (at[1] < 0 && onLast && serves(c, first, 1)) {
                                    at[1] = now;
                                }
                                return at[1] >= 0;
                            });
                    reporting.add(at[0]);
                    every.add(at[1]);
                } catch (ConditionTimeoutException e) {
                    missed++;
                }
                lines.add(String.format(Locale.ROOT, "cycle %d: v%d, F-th report on %s: reporting canary %.0f ms, every canary %.0f ms",
                        i + 1, v, last.id(), at[0], at[1]));
            }
        }
        Results.Table t = results.table("F-th failure report -> canary hosts serve the previous good version, " + CYCLES
                + " cycles, 3 nodes (TLS mesh, lan timers), canary wave of 2 hosts, revert_failed 2; ms",
                "measure", "cycles", "p50", "p99", "max", "not within 30 s");
        t.row("reporting canary", reporting.count(), reporting.pct(50), reporting.pct(99), reporting.pct(100), missed);
        t.row("every canary (the other learns through the mesh)", every.count(), every.pct(50), every.pct(99), every.pct(100), missed);
        lines.forEach(results::note);
    }

    private static void check(SimulatedVm.Answer a) {
        if (a.status() != 202) {
            throw new IllegalStateException("report answered " + a.status() + ": " + a.bodyText());
        }
    }

    /** The failed reports {@code n} counts for {@code NAME@v}, from its admin GET /v1/rollouts (-1: no answer). */
    private static int failedSeen(NodeProcess n, long v) {
        try {
            java.net.http.HttpResponse<byte[]> r = HTTP.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(n.adminUrl() + "/v1/rollouts/" + NAME)).header("Authorization", "Bearer " + ChaosCluster.TOKEN)
                    .timeout(Duration.ofSeconds(2)).GET().build(), java.net.http.HttpResponse.BodyHandlers.ofByteArray());
            if (io.knowngood.api.ApiJson.decode(r.body(), io.knowngood.api.RolloutList.class)
                    instanceof io.knowngood.api.ApiJson.Decoded.Body<io.knowngood.api.RolloutList> b) {
                return b.value().rollouts().stream().filter(x -> x.version() == v).mapToInt(io.knowngood.api.RolloutList.Rollout::failed)
                        .findFirst().orElse(0);
            }
            return -1;
        } catch (java.io.IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static boolean serves(ChaosCluster c, NodeProcess n, long version) {
        return new SimulatedVm("127.0.0.1", 2_000).get(n.ip(), n.vmPort(), "/v1/bundles/" + NAME).version() == version;
    }

    private static void publishAndAwait(ChaosCluster c, long v, RolloutPolicy policy) {
        TreeMap<String, byte[]> files = new TreeMap<>();
        files.put("config.ini", ("[desk]\nversion=" + v + "\n").getBytes(StandardCharsets.UTF_8));
        byte[] archive = BundlePacker.pack(NAME, v, files, new BundlePacker.PackOptions(Map.of(), Optional.empty(), Optional.ofNullable(policy)),
                c.publisher().getPrivate(), Clock.systemUTC());
        if (c.publish(c.node(2), NAME, archive) != 201) {
            throw new IllegalStateException("publish of v" + v + " refused");
        }
        long expect = v;
        Awaitility.await("canaries serve v" + v).atMost(BOUND).pollInterval(Duration.ofMillis(20))
                .until(() -> serves(c, c.node(0), expect) && serves(c, c.node(1), expect)
                        && serves(c, c.node(2), 1));
    }
}
