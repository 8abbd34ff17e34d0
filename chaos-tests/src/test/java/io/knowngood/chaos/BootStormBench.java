package io.knowngood.chaos;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Boot storm: 5,000 simulated VMs start at once against one node; each fetches the bundle list,
 * then the archive (64 KiB), then parks a long-poll. Reports time until all are served, errors and
 * per-VM latency. All clients come from one address here, so the node runs with the per-client
 * connection cap raised (in production each VM has its own address). Run: bench/run.sh BootStormBench
 */
class BootStormBench {
    private static final int VMS = Integer.getInteger("bench.vms", 5000);

    @Test
    void bootStorm() throws Exception {
        Path jar = Path.of(System.getProperty("kgnode.jar")).toAbsolutePath();
        Assumptions.assumeTrue(jar.toFile().isFile(), "kgnode jar missing: " + jar);
        Path dir = Path.of("target", "bench", "bootstorm").toAbsolutePath();
        try (ChaosCluster c = new ChaosCluster(dir, jar, 1, 91, 18900,
                List.of("--max-connections-per-client", "20000", "--max-connections", "20000"))) {
            NodeProcess n = c.nodes.get(0);
            c.start(n);
            ProcessFaults.awaitHealthy(c, n);
            byte[] payload = new byte[64 * 1024];
            new Random(3).nextBytes(payload);
            TreeMap<String, byte[]> files = new TreeMap<>();
            files.put("desktop.reg", payload);
            byte[] archive = io.knowngood.crypto.bundle.BundlePacker.pack("desktop", 1, files, Map.of(),
                    c.publisher.getPrivate(), java.time.Clock.systemUTC());
            if (c.publish(n, "desktop", archive) != 201) {
                throw new IllegalStateException("publish refused");
            }
            ExecutorService pool = Executors.newFixedThreadPool(4);
            HttpClient http = HttpClient.newBuilder().executor(pool).connectTimeout(Duration.ofSeconds(30)).build();
            Percentiles perVm = new Percentiles();
            AtomicInteger errors = new AtomicInteger();
            AtomicInteger parked = new AtomicInteger();
            List<String> firstErrors = java.util.Collections.synchronizedList(new ArrayList<>());
            long t0 = System.nanoTime();
            List<CompletableFuture<Void>> served = new ArrayList<>();
            for (int i = 0; i < VMS; i++) {
                long start = System.nanoTime();
                CompletableFuture<Void> vm = http.sendAsync(get(n.vmUrl() + "/v1/bundles"), HttpResponse.BodyHandlers.ofString())
                        .thenCompose(list -> {
                            if (list.statusCode() != 200) {
                                throw new IllegalStateException("list " + list.statusCode());
                            }
                            return http.sendAsync(get(n.vmUrl() + "/v1/bundles/desktop"), HttpResponse.BodyHandlers.ofByteArray());
                        })
                        .thenAccept(r -> {
                            if (r.statusCode() != 200 || r.body().length != archive.length) {
                                throw new IllegalStateException("archive " + r.statusCode());
                            }
                            perVm.add((System.nanoTime() - start) / 1e6);
                            parked.incrementAndGet();
                            http.sendAsync(get(n.vmUrl() + "/v1/bundles/desktop?wait=20&after=1"), HttpResponse.BodyHandlers.discarding())
                                    .whenComplete((x, e) -> parked.decrementAndGet());
                        })
                        .exceptionally(e -> {
                            if (errors.incrementAndGet() <= 5) {
                                firstErrors.add(String.valueOf(e.getCause() == null ? e : e.getCause()));
                            }
                            return null;
                        });
                served.add(vm);
            }
            CompletableFuture.allOf(served.toArray(new CompletableFuture[0])).get(120, TimeUnit.SECONDS);
            double total = (System.nanoTime() - t0) / 1e6;
            int parkedNow = parked.get();
            long healthStart = System.nanoTime();
            boolean healthy = c.healthy(n);
            double healthMs = (System.nanoTime() - healthStart) / 1e6;
            System.out.println("\n# boot storm, one node, " + VMS + " VMs (list, 64 KiB archive, then a parked long-poll), nproc "
                    + Runtime.getRuntime().availableProcessors() + ", java " + System.getProperty("java.version")
                    + "\n| VMs | all served in ms | errors | per-VM p50 / p99 / max ms | long-polls parked after | health answer while parked |\n|---|---|---|---|---|---|\n"
                    + String.format(Locale.ROOT, "| %d | %.0f | %d | %s | %d | %s in %.0f ms |%n", VMS, total, errors.get(), perVm.summary(),
                    parkedNow, healthy ? "200" : "FAILED", healthMs)
                    + (firstErrors.isEmpty() ? "" : "first errors: " + firstErrors + "\n"));
            pool.shutdownNow();
        }
    }

    private static HttpRequest get(String url) {
        return HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60)).build();
    }
}
