package io.knowngood.chaos;

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
import java.util.Locale;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Cold start: process start to the first 200 for a bundle served from disk, with no peers
 * reachable (kgnode), beside etcd single-member start (with data) to a healthy answer.
 * Run: bench/run.sh ColdStartBench
 */
class ColdStartBench {
    private static final int RUNS = Integer.getInteger("bench.rounds", 10);
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(200)).build();

    @Test
    void coldStart() throws Exception {
        Path jar = Path.of(System.getProperty("kgnode.jar")).toAbsolutePath();
        Assumptions.assumeTrue(jar.toFile().isFile(), "kgnode jar missing: " + jar);
        Path dir = Path.of("target", "bench", "coldstart").toAbsolutePath();
        Percentiles kg = new Percentiles();
        try (ChaosCluster c = new ChaosCluster(dir, jar, 1, 71, 18700)) {
            NodeProcess n = c.node(0);
            c.holdOneAndStop(n, "boot");
            for (int i = 0; i < RUNS; i++) {
                long t0 = System.nanoTime();
                // peers that never answer: the node must not wait for them before serving
                n.peers(java.util.List.of("127.0.0.72:18701", "127.0.0.73:18702"));
                n.start();
                Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(5)).pollDelay(Duration.ZERO)
                        .until(() -> ok(n.vmUrl() + "/v1/bundles/boot"));
                kg.add((System.nanoTime() - t0) / 1e6);
                n.stop();
            }
        }
        Percentiles etcd = new Percentiles();
        String etcdRow;
        if (EtcdCluster.available()) {
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
            etcdRow = String.format(Locale.ROOT, "| etcd 3.4 single member, start (with data) to /health true | %d | %s |%n", RUNS, etcd.summary());
        } else {
            etcdRow = "| etcd | - | etcd-server not installed |\n";
        }
        System.out.println("\n# cold start, nproc " + Runtime.getRuntime().availableProcessors() + ", java "
                + System.getProperty("java.version") + "\n| what | runs | p50 / p99 / max ms |\n|---|---|---|\n"
                + String.format(Locale.ROOT, "| kgnode, start to first 200 of a bundle from disk, peers unreachable | %d | %s |%n", RUNS, kg.summary())
                + etcdRow);
    }

    private boolean ok(String url) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMillis(500)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (Exception e) {
            return false;
        }
    }
}
