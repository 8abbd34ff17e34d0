package io.knowngood.chaos;

import io.knowngood.testkit.cluster.ChaosCluster;
import io.knowngood.testkit.measure.Percentiles;
import io.knowngood.testkit.process.NodeProcess;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Publish on one node to "served by every node", seen by long-poll clients on each node, for a
 * 64 KiB bundle with 3, 5 and 8 node processes; beside it etcd (3 members): put on one member to
 * watch event on the others, same value size. Prints a table. Run: bench/run.sh PropagationBench
 */
class PropagationBench {
    private static final int ROUNDS = Integer.getInteger("bench.rounds", 30);
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @Test
    void propagation() throws Exception {
        Path jar = Path.of(System.getProperty("kgnode.jar")).toAbsolutePath();
        Assumptions.assumeTrue(jar.toFile().isFile(), "kgnode jar missing: " + jar);
        StringBuilder table = new StringBuilder();
        table.append("| system | members | publishes | publish->all served p50 / p99 / max ms | publish call p50 / p99 ms |\n|---|---|---|---|---|\n");
        for (int size : new int[] {3, 5, 8}) {
            table.append(kgnode(jar, size));
        }
        if (EtcdCluster.available()) {
            table.append(etcd());
        } else {
            table.append("| etcd | - | - | etcd-server not installed (apt-get install -y etcd-server) | - |\n");
        }
        System.out.println("\n# propagation, 64 KiB, " + ROUNDS + " rounds, nproc " + Runtime.getRuntime().availableProcessors()
                + ", java " + System.getProperty("java.version") + "\n" + table);
    }

    private String kgnode(Path jar, int size) throws Exception {
        Path dir = Path.of("target", "bench", "propagation-" + size).toAbsolutePath();
        try (ChaosCluster c = new ChaosCluster(dir, jar, size, 51, 18400 + size * 10)) {
            for (NodeProcess n : c.nodes()) {
                n.start();
            }
            for (NodeProcess n : c.nodes()) {
                ChaosCluster.awaitUp(n);
            }
            byte[] payload = new byte[64 * 1024];
            new Random(1).nextBytes(payload);
            Map<String, Long> seen = new ConcurrentHashMap<>();
            AtomicBoolean running = new AtomicBoolean(true);
            Percentiles all = new Percentiles();
            Percentiles call = new Percentiles();
            // publish v1 and wait until every node has it (mesh formed)
            if (c.publish(c.node(0), "prop", bundle(c, 1, payload)) != 201) {
                throw new IllegalStateException("first publish refused");
            }
            Awaitility.await("mesh formed").atMost(Duration.ofSeconds(60)).until(() ->
                    c.nodes().stream().allMatch(n -> c.fetch(n, "prop").version() >= 1));
            Map<String, Long> arrival = new ConcurrentHashMap<>();
            for (NodeProcess n : c.nodes()) {
                poll(n, 1, seen, arrival, running);
            }
            for (int v = 2; v <= ROUNDS + 1; v++) {
                byte[] archive = bundle(c, v, payload);
                long t0 = System.nanoTime();
                int status = c.publish(c.node(0), "prop", archive);
                call.add((System.nanoTime() - t0) / 1e6);
                if (status != 201) {
                    throw new IllegalStateException("publish " + v + " got " + status);
                }
                final long version = v;
                Awaitility.await("v" + v + " on every node").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(1))
                        .until(() -> c.nodes().stream().allMatch(n -> seen.getOrDefault(n.id(), 0L) >= version));
                long last = c.nodes().stream().mapToLong(n -> arrival.get(n.id() + "/" + version)).max().orElseThrow();
                all.add((last - t0) / 1e6);
            }
            running.set(false);
            return String.format(Locale.ROOT, "| kgnode | %d | %d | %s | %.1f / %.1f |%n", size, all.count(), all.summary(),
                    call.pct(50), call.pct(99));
        }
    }

    private static byte[] bundle(ChaosCluster c, long v, byte[] payload) {
        TreeMap<String, byte[]> files = new TreeMap<>();
        files.put("payload.bin", payload);
        files.put("version.txt", Long.toString(v).getBytes());
        return io.knowngood.crypto.bundle.BundlePacker.pack("prop", v, files, Map.of(), c.publisher().getPrivate(),
                java.time.Clock.systemUTC());
    }

    /** A VM's long-poll loop on one node: records when each new version arrives. */
    private void poll(NodeProcess n, long after, Map<String, Long> seen, Map<String, Long> arrival, AtomicBoolean running) {
        if (!running.get()) {
            return;
        }
        HttpRequest req = HttpRequest.newBuilder(URI.create(n.vmUrl() + "/v1/bundles/prop?wait=30&after=" + after))
                .timeout(Duration.ofSeconds(40)).build();
        http.sendAsync(req, HttpResponse.BodyHandlers.ofByteArray()).whenComplete((r, err) -> {
            long now = System.nanoTime();
            long next = after;
            if (err == null && r.statusCode() == 200) {
                long v = r.headers().firstValueAsLong("X-Knowngood-Version").orElse(after);
                for (long i = after + 1; i <= v; i++) {
                    arrival.putIfAbsent(n.id() + "/" + i, now);
                }
                seen.merge(n.id(), v, Math::max);
                next = v;
            }
            poll(n, next, seen, arrival, running);
        });
    }

    private String etcd() throws Exception {
        Path dir = Path.of("target", "bench", "etcd-propagation").toAbsolutePath();
        java.nio.file.Files.createDirectories(dir);
        try (EtcdCluster e = new EtcdCluster(dir, 3, 61, 18600)) {
            e.startAll(dir);
            for (int i = 0; i < 3; i++) {
                final int m = i;
                Awaitility.await("etcd member " + i).atMost(Duration.ofSeconds(60)).until(() -> e.healthy(m));
            }
            String key = Base64.getEncoder().encodeToString("/kg/prop".getBytes());
            byte[] payload = new byte[64 * 1024];
            new Random(1).nextBytes(payload);
            Map<String, Long> arrival = new ConcurrentHashMap<>();
            Map<Integer, Integer> events = new ConcurrentHashMap<>();
            for (int m = 1; m < 3; m++) {
                final int member = m;
                HttpRequest watch = HttpRequest.newBuilder(URI.create(e.clientUrls.get(m) + "/v3/watch"))
                        .POST(HttpRequest.BodyPublishers.ofString("{\"create_request\":{\"key\":\"" + key + "\"}}")).build();
                http.sendAsync(watch, HttpResponse.BodyHandlers.ofLines()).thenAccept(r -> r.body().forEach(line -> {
                    if (line.contains("\"events\"")) {
                        // arrival first, then the count the waiter polls (one reader thread per watch stream)
                        long now = System.nanoTime();
                        int count = events.getOrDefault(member, 0) + 1;
                        arrival.put(member + "/" + count, now);
                        events.put(member, count);
                    }
                }));
            }
            Awaitility.await("watches created").atMost(Duration.ofSeconds(5)).pollDelay(Duration.ofMillis(500)).until(() -> true);
            Percentiles all = new Percentiles();
            Percentiles call = new Percentiles();
            for (int round = 1; round <= ROUNDS; round++) {
                payload[0] = (byte) round;
                String body = "{\"key\":\"" + key + "\",\"value\":\"" + Base64.getEncoder().encodeToString(payload) + "\"}";
                long t0 = System.nanoTime();
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(e.clientUrls.get(0) + "/v3/kv/put"))
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
                call.add((System.nanoTime() - t0) / 1e6);
                if (r.statusCode() != 200) {
                    throw new IllegalStateException("etcd put: " + r.statusCode() + " " + r.body());
                }
                final int want = round;
                Awaitility.await("etcd event " + round).atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(1))
                        .until(() -> events.getOrDefault(1, 0) >= want && events.getOrDefault(2, 0) >= want);
                long last = Math.max(arrival.get("1/" + round), arrival.get("2/" + round));
                all.add((last - t0) / 1e6);
            }
            return String.format(Locale.ROOT, "| etcd 3.4 (put -> watch on the 2 others) | 3 | %d | %s | %.1f / %.1f |%n",
                    all.count(), all.summary(), call.pct(50), call.pct(99));
        }
    }
}
