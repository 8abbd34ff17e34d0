package io.knowngood.bench;

import io.knowngood.api.ApiJson;
import io.knowngood.api.VmHealth;
import io.knowngood.testkit.cluster.ChaosCluster;
import io.knowngood.testkit.fault.NetworkFaults;
import io.knowngood.testkit.process.NodeProcess;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * What an idle mesh costs: 3 real kgnode processes (TLS mesh, shipped {@code lan} timers) holding
 * 10,000 names (one small bundle each), then left alone. Over the window (60 s) it reports CPU % per
 * node (utime + stime from /proc) and the mesh traffic in bytes per second, all node pairs together,
 * counted by iptables rules on every node-to-node address pair (IP packets, headers included: TCP,
 * TLS, JGroups and anti-entropy alike; test traffic leaves from 127.0.0.1 and is not counted). Needs
 * root for the counters; without it only CPU is measured.
 * Nodes on 127.0.0.111-113 (or {@code -Dchaos.ipBase=N}), cluster ports 19400+, VM 19500+, admin
 * 19600+; node JVMs with {@code -Xmx256m} (the shipped heap; 10,000 names exceed the tests' 96m
 * budget) unless {@code -Dkgnode.jvm} says otherwise.
 * Run: {@code bench/run.sh MeshTrafficBench [-Dbench.mesh.names=10000] [-Dbench.mesh.seconds=60]
 * [-Dbench.mesh.settleSeconds=15]}
 */
public final class MeshTrafficBench {
    private static final int NAMES = Integer.getInteger("bench.mesh.names", 10_000);
    private static final Duration WINDOW = Duration.ofSeconds(Integer.getInteger("bench.mesh.seconds", 60));
    /** After every node holds every name: publishing, replication and the first digest rounds have passed. */
    private static final Duration SETTLE = Duration.ofSeconds(Integer.getInteger("bench.mesh.settleSeconds", 15));
    private static final String NODE_JVM = "-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1";
    private static final int PUBLISHERS = 4;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private MeshTrafficBench() {
    }

    public static void main(String[] args) {
        Results.main("MeshTrafficBench", args, r -> new MeshTrafficBench().measure(r));
    }

    private void measure(Results results) throws Exception {
        if (System.getProperty("kgnode.jvm") == null) {
            // read by NodeProcess when the cluster is built
            System.setProperty("kgnode.jvm", NODE_JVM);
        }
        int ipBase = ChaosCluster.ipBaseProperty(111);
        results.param("names", NAMES).param("windowSeconds", WINDOW.toSeconds()).param("settleSeconds", SETTLE.toSeconds())
                .param("nodeJvmFlags", System.getProperty("kgnode.jvm")).param("ipBase", ipBase);
        String noCounters = NetworkFaults.unavailableBecause();
        if (noCounters != null) {
            results.note("mesh bytes not measured: " + noCounters);
        }
        try (ChaosCluster c = new ChaosCluster(Results.workDir("mesh-traffic"), NodeProcess.jar(), 3, ipBase, 19400)) {
            c.startAll();
            Awaitility.await("every node sees 3 members").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
                    .until(() -> c.nodes().stream().allMatch(n -> health(n) != null && health(n).cluster().members() == 3));
            long t0 = System.nanoTime();
            int refused = publishAll(c);
            double publishSeconds = (System.nanoTime() - t0) / 1e9;
            if (refused > 0) {
                results.note(refused + " of " + NAMES + " publishes were not answered 201 (after one retry on another node)");
            }
            try {
                Awaitility.await("every node holds every name").atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(1))
                        .until(() -> c.nodes().stream().allMatch(n -> held(n) >= NAMES - refused));
            } catch (ConditionTimeoutException e) {
                results.note("not every node held every name after 5 min: " + c.nodes().stream().map(n -> n.id() + "=" + held(n)).toList());
            }
            double allHeldSeconds = (System.nanoTime() - t0) / 1e9;
            // the settling time, not a wait for a condition
            Awaitility.await().pollDelay(SETTLE).atMost(SETTLE.plusSeconds(5)).until(() -> true);

            if (noCounters == null) {
                NetworkFaults.setUp();
            }
            try {
                if (noCounters == null) {
                    for (NodeProcess a : c.nodes()) {
                        for (NodeProcess b : c.nodes()) {
                            if (a != b) {
                                NetworkFaults.count(a.ip(), b.ip());
                            }
                        }
                    }
                }
                long[] cpu0 = new long[3];
                for (int i = 0; i < 3; i++) {
                    cpu0[i] = c.node(i).cpuTicks();
                }
                long bytes0 = noCounters == null ? NetworkFaults.countedBytes() : 0;
                long w0 = System.nanoTime();
                // the measuring window itself, not a wait for a condition
                Awaitility.await().pollDelay(WINDOW).atMost(WINDOW.plusSeconds(5)).until(() -> true);
                double seconds = (System.nanoTime() - w0) / 1e9;
                long bytes1 = noCounters == null ? NetworkFaults.countedBytes() : 0;
                Results.Table t = results.table(String.format(Locale.ROOT,
                                "idle mesh, 3 nodes holding %,d names, over %.0f s (after %.0f s to publish, %.0f s until every node held all, %d s settling)",
                                NAMES, seconds, publishSeconds, allHeldSeconds, SETTLE.toSeconds()),
                        "node", "names held", "idle CPU %", "RSS MiB");
                double cpuSum = 0;
                for (int i = 0; i < 3; i++) {
                    NodeProcess n = c.node(i);
                    double pct = (n.cpuTicks() - cpu0[i]) / 100.0 / seconds * 100.0;
                    cpuSum += pct;
                    t.row(n.id(), held(n), String.format(Locale.ROOT, "%.1f", pct), Math.round(rssKb(n.pid()) / 1024.0));
                }
                t.row("all", "-", String.format(Locale.ROOT, "%.1f", cpuSum), "-");
                if (noCounters == null) {
                    double perSecond = (bytes1 - bytes0) / seconds;
                    results.table("mesh traffic between the 3 nodes, all pairs and directions, IP bytes", "bytes / s", "KiB / s",
                                    "mean per node, bytes / s")
                            .row(Math.round(perSecond), String.format(Locale.ROOT, "%.1f", perSecond / 1024),
                                    Math.round(perSecond / 3));
                }
            } finally {
                if (noCounters == null) {
                    NetworkFaults.tearDown();
                }
            }
        }
    }

    /** Publishes names 0..NAMES-1 (version 1), spread over the nodes, a few at a time; returns how many were refused. */
    private static int publishAll(ChaosCluster c) throws Exception {
        AtomicInteger next = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(PUBLISHERS);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int p = 0; p < PUBLISHERS; p++) {
                done.add(pool.submit(() -> {
                    for (int i = next.getAndIncrement(); i < NAMES; i = next.getAndIncrement()) {
                        String name = String.format(Locale.ROOT, "name-%05d", i);
                        byte[] archive = c.pack(name, 1);
                        if (c.publish(c.node(i % 3), name, archive) != 201 && c.publish(c.node((i + 1) % 3), name, archive) != 201) {
                            refused.incrementAndGet();
                        }
                    }
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        return refused.get();
    }

    private int held(NodeProcess n) {
        VmHealth h = health(n);
        return h == null ? -1 : h.bundles();
    }

    private VmHealth health(NodeProcess n) {
        try {
            HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create(n.vmUrl() + "/v1/health"))
                    .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
            return ApiJson.decode(r.body(), VmHealth.class) instanceof ApiJson.Decoded.Body<VmHealth> b ? b.value() : null;
        } catch (java.io.IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static long rssKb(long pid) throws java.io.IOException {
        for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }
}
