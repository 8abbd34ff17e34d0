package io.knowngood.bench;

import io.knowngood.bench.Results.Table;
import io.knowngood.testkit.cluster.ChaosCluster;
import io.knowngood.testkit.measure.Percentiles;
import io.knowngood.testkit.process.NodeProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.awaitility.Awaitility;

/**
 * Cold start: process start to the first 200 for a bundle served from disk, with no peers
 * reachable (kgnode), beside etcd single-member start (with data) to a healthy answer.
 * Run: {@code bench/run.sh ColdStartBench [-Dbench.rounds=10]}
 */
public final class ColdStartBench {
    private static final int RUNS = Integer.getInteger("bench.rounds", 10);

    private ColdStartBench() {
    }

    public static void main(String[] args) {
        Results.main("ColdStartBench", args, ColdStartBench::measure);
    }

    private static void measure(Results results) throws Exception {
        results.param("rounds", RUNS);
        Table t = results.table("cold start", "what", "runs", "p50 / p99 / max ms");
        Path dir = Results.workDir("coldstart");
        Percentiles kg = new Percentiles();
        try (ChaosCluster c = new ChaosCluster(dir, NodeProcess.jar(), 1, 71, 18700)) {
            NodeProcess n = c.node(0);
            c.holdOneAndStop(n, "boot");
            // peers that never answer: the node must not wait for them before serving
            n.peers(List.of("127.0.0.72:18701", "127.0.0.73:18702"));
            for (int i = 0; i < RUNS; i++) {
                long t0 = n.start();
                Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(5)).pollDelay(Duration.ZERO)
                        .until(() -> n.answers200("/v1/bundles/boot"));
                kg.add((System.nanoTime() - t0) / 1e6);
                n.stop();
            }
        }
        t.row("kgnode, start to first 200 of a bundle from disk, peers unreachable", RUNS, kg.summary());
        if (!EtcdCluster.available()) {
            results.note(EtcdCluster.MISSING + ": etcd reference row skipped");
            return;
        }
        Percentiles etcd = new Percentiles();
        Files.createDirectories(dir);
        try (EtcdCluster e = new EtcdCluster(dir, 1, 74, 18750)) {
            Process p = e.start(0, dir);
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> e.healthy(0));
            p.destroy();
            p.waitFor();
            for (int i = 0; i < RUNS; i++) {
                long t0 = System.nanoTime();
                Process q = e.start(0, dir);
                Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(5)).pollDelay(Duration.ZERO)
                        .until(() -> e.healthy(0));
                etcd.add((System.nanoTime() - t0) / 1e6);
                q.destroy();
                q.waitFor();
            }
        }
        t.row(EtcdCluster.version() + " single member, start (with data) to /health true", RUNS, etcd.summary());
    }
}
