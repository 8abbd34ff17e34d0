package io.knowngood.bench;

import io.knowngood.bench.Results.Table;
import io.knowngood.testkit.cluster.ChaosCluster;
import io.knowngood.testkit.measure.Percentiles;
import io.knowngood.testkit.process.MetricsPage;
import io.knowngood.testkit.process.NodeProcess;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.awaitility.Awaitility;

/**
 * Publish on one node to "served by every node", seen by long-poll clients on each node, for a
 * 64 KiB bundle with 3, 5 and 8 node processes; beside it etcd (3 members): put on one member to
 * watch event on the others, same value size. Run: {@code bench/run.sh PropagationBench
 * [-Dbench.rounds=200] [-Dbench.warmup=3] [-Dbench.gapMs=0] [-Dbench.sizes=3,5,8] [-Dchaos.ipBase=51]
 * [-Dbench.portBase=18400]}: nodes on
 * 127.0.0.(ipBase..ipBase+9) with ports portBase+size*10 (+100, +200 for the VM and admin ports),
 * etcd on 127.0.0.(ipBase+10..ipBase+12) with client ports portBase+200 and peer ports portBase+300.
 * The default of 200 rounds makes the p99 a p99: over fewer than 100 rounds the nearest-rank p99
 * is the slowest round, so one stall of the machine (a disk hiccup that holds every member's fsync
 * for 100+ ms at once is seen here) decides it; the table reports the maximum beside it.
 * Measuring starts once every node reports its mesh CLUSTERED, after {@code bench.warmup} uncounted
 * publishes (and as many uncounted etcd puts). The last column is the servers' CPU (user + system,
 * every member's process, from /proc) over the counted rounds per publish: steadier than the
 * latencies on a small shared machine, where the members compete for the same cores. The column after
 * it counts the members' garbage collections over the counted rounds, young and full, per member (from
 * each node's admin {@code /metrics}): a full collection of the serial GC stops its node for 25-50 ms
 * here, so a round that meets one is among the slowest.
 * {@code bench.gapMs}: an idle pause after each round (both systems), so a publish meets a mesh that
 * has finished the previous one's follow-up work (the duplicate copy, haves, digests), as publishes
 * minutes apart do; 0 (the default) publishes back to back. With a gap the CPU column also counts the
 * members' idle work during the pauses.
 */
public final class PropagationBench {
    private static final int ROUNDS = Integer.getInteger("bench.rounds", 200);
    /** Publishes (puts for etcd) before the measured ones, not counted: first use of each path. */
    private static final int WARMUP = Integer.getInteger("bench.warmup", 3);
    private static final int[] SIZES = Arrays.stream(System.getProperty("bench.sizes", "3,5,8").split(","))
            .mapToInt(s -> Integer.parseInt(s.trim())).toArray();
    private static final int IP_BASE = ChaosCluster.ipBaseProperty(51);
    private static final int PORT_BASE = Integer.getInteger("bench.portBase", 18400);
    private static final long GAP_MS = Long.getLong("bench.gapMs", 0);
    /** Collector names (the {@code gc} label) of young and of full collections, for the serial, parallel and G1 GCs. */
    private static final List<String> YOUNG = List.of("gc=\"Copy\"", "gc=\"PS Scavenge\"", "gc=\"G1 Young Generation\"");
    private static final List<String> FULL = List.of("gc=\"MarkSweepCompact\"", "gc=\"PS MarkSweep\"", "gc=\"G1 Old Generation\"");
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private PropagationBench() {
    }

    /** The pause of {@code bench.gapMs} between rounds: deliberate idle time, not a wait for a condition. */
    private static void idleAfterRound() throws InterruptedException {
        if (GAP_MS > 0) {
            Thread.sleep(GAP_MS);
        }
    }

    public static void main(String[] args) {
        Results.main("PropagationBench", args, PropagationBench::measure);
    }

    private static void measure(Results results) throws Exception {
        results.param("rounds", ROUNDS).param("payloadBytes", 64 * 1024).param("warmup", WARMUP).param("gapMs", GAP_MS).param("ipBase", IP_BASE).param("portBase", PORT_BASE);
        Table t = results.table("propagation, 64 KiB, " + ROUNDS + " rounds" + (GAP_MS > 0 ? ", " + GAP_MS + " ms idle after each" : ""), "system", "members", "publishes",
                "publish->all served p50 / p99 / max ms", "publish call p50 / p99 ms", "server CPU ms per publish (all members)",
                "GCs per member, young / full");
        PropagationBench bench = new PropagationBench();
        Path jar = NodeProcess.jar();
        for (int size : SIZES) {
            bench.kgnode(t, jar, size);
        }
        if (EtcdCluster.available()) {
            bench.etcd(t);
        } else {
            results.note(EtcdCluster.MISSING + ": etcd reference row skipped");
        }
    }

    private void kgnode(Table t, Path jar, int size) throws Exception {
        Path dir = Results.workDir("propagation-" + size);
        try (ChaosCluster c = new ChaosCluster(dir, jar, size, IP_BASE, PORT_BASE + size * 10)) {
            c.startAll();
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
            // every node's cache started and every member in its view: v1 may have arrived by an
            // anti-entropy pull before that, and a publish then waits for the next pull (1 s)
            try {
                Awaitility.await("every node clustered").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
                        .until(() -> c.nodes().stream().allMatch(PropagationBench::clustered));
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                StringBuilder views = new StringBuilder();
                for (NodeProcess n : c.nodes()) {
                    views.append('\n').append(n.id()).append(": ").append(clusterView(n));
                }
                throw new IllegalStateException("not every node CLUSTERED within 120 s:" + views, e);
            }
            // every archive built and signed before the first counted round: an admin signs on its own
            // machine, and this JVM's signing (and compiling it) would otherwise share the members' cores
            // between rounds
            List<byte[]> archives = new ArrayList<>();
            for (int v = 2; v <= WARMUP + ROUNDS + 1; v++) {
                archives.add(bundle(c, v, payload));
            }
            Map<String, Long> arrival = new ConcurrentHashMap<>();
            List<LeanHttp> open = new java.util.concurrent.CopyOnWriteArrayList<>();
            for (NodeProcess n : c.nodes()) {
                poll(n, 1, seen, arrival, running, open);
            }
            // per round, wall-clock ms (sub-ms from nanoTime), to line up with the nodes' log lines
            StringBuilder rounds = new StringBuilder("version,publish_start,publish_end");
            c.nodes().forEach(n -> rounds.append(',').append(n.id()).append("_served"));
            rounds.append('\n');
            long wall0 = System.currentTimeMillis();
            long nano0 = System.nanoTime();
            long cpu0 = 0;
            long[] gc0 = {0, 0};
            for (int v = 2; v <= WARMUP + ROUNDS + 1; v++) {
                if (v == WARMUP + 2) {
                    gc0 = collections(c);
                    cpu0 = nodesCpuTicks(c);
                }
                byte[] archive = archives.get(v - 2);
                long t0 = System.nanoTime();
                int status = c.publish(c.node(0), "prop", archive);
                long t1 = System.nanoTime();
                boolean counted = v > WARMUP + 1;
                if (counted) {
                    call.add((System.nanoTime() - t0) / 1e6);
                }
                if (status != 201) {
                    throw new IllegalStateException("publish " + v + " got " + status);
                }
                final long version = v;
                Awaitility.await("v" + v + " on every node").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(1))
                        .until(() -> c.nodes().stream().allMatch(n -> seen.getOrDefault(n.id(), 0L) >= version));
                long last = c.nodes().stream().mapToLong(n -> arrival.get(n.id() + "/" + version)).max().orElseThrow();
                if (counted) {
                    all.add((last - t0) / 1e6);
                }
                rounds.append(v).append(',').append(wallMs(wall0, nano0, t0)).append(',').append(wallMs(wall0, nano0, t1));
                for (NodeProcess n : c.nodes()) {
                    rounds.append(',').append(wallMs(wall0, nano0, arrival.get(n.id() + "/" + version)));
                }
                rounds.append('\n');
                idleAfterRound();
            }
            double cpuMs = (nodesCpuTicks(c) - cpu0) * 10.0 / ROUNDS;
            long[] gc1 = collections(c);
            running.set(false);
            for (LeanHttp o : open) {
                o.close();
            }
            Files.writeString(dir.resolve("rounds.csv"), rounds);
            t.row("kgnode", size, all.count(), all.summary(), String.format(java.util.Locale.ROOT, "%.1f / %.1f", call.pct(50), call.pct(99)),
                    String.format(java.util.Locale.ROOT, "%.1f", cpuMs),
                    String.format(java.util.Locale.ROOT, "%.1f / %.1f", (gc1[0] - gc0[0]) / (double) size, (gc1[1] - gc0[1]) / (double) size));
        }
    }

    private static long nodesCpuTicks(ChaosCluster c) throws java.io.IOException {
        long sum = 0;
        for (NodeProcess n : c.nodes()) {
            sum += n.cpuTicks();
        }
        return sum;
    }

    /** Young and full collections of all members so far: {@code jvm_gc_collection_seconds_count} by collector. */
    private static long[] collections(ChaosCluster c) throws InterruptedException {
        long[] sum = {0, 0};
        for (NodeProcess n : c.nodes()) {
            MetricsPage page;
            try {
                page = MetricsPage.of(n);
            } catch (java.io.IOException e) {
                throw new IllegalStateException(n.id() + ": GET /metrics failed", e);
            }
            for (MetricsPage.Sample s : page.samples()) {
                if (!s.name().equals("jvm_gc_collection_seconds_count")) {
                    continue;
                }
                if (YOUNG.stream().anyMatch(s::has)) {
                    sum[0] += (long) s.value();
                } else if (FULL.stream().anyMatch(s::has)) {
                    sum[1] += (long) s.value();
                }
            }
        }
        return sum;
    }

    private static String wallMs(long wall0, long nano0, long nanos) {
        return String.format(java.util.Locale.ROOT, "%.3f", wall0 + (nanos - nano0) / 1e6);
    }

    private static boolean clustered(NodeProcess n) {
        String v = clusterView(n);
        return v.startsWith("200 ") && v.contains("\"state\":\"CLUSTERED\"");
    }

    /** "STATUS BODY" of the node's admin {@code GET /v1/cluster}, or what went wrong. */
    private static String clusterView(NodeProcess n) {
        try {
            HttpResponse<String> r = n.adminGet("/v1/cluster");
            return r.statusCode() + " " + r.body();
        } catch (java.io.IOException e) {
            return "failed: " + e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    private static byte[] bundle(ChaosCluster c, long v, byte[] payload) {
        TreeMap<String, byte[]> files = new TreeMap<>();
        files.put("payload.bin", payload);
        files.put("version.txt", Long.toString(v).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return c.pack("prop", v, files);
    }

    /**
     * A VM's long-poll loop on one node, on its own thread and connection ({@link LeanHttp}): records
     * when each new version's answer has fully arrived. Ends when {@code running} is cleared and its
     * connection closed.
     */
    private static void poll(NodeProcess n, long after, Map<String, Long> seen, Map<String, Long> arrival, AtomicBoolean running,
                             List<LeanHttp> open) throws java.io.IOException {
        LeanHttp client = new LeanHttp(URI.create(n.vmUrl()));
        open.add(client);
        LeanHttp.start("long-poll-" + n.id(), () -> {
            long last = after;
            while (running.get()) {
                LeanHttp.Response r = client.get("/v1/bundles/prop?wait=30&after=" + last);
                if (r.status() == 200) {
                    long v = Long.parseLong(r.header("X-Knowngood-Version"));
                    for (long i = last + 1; i <= v; i++) {
                        arrival.putIfAbsent(n.id() + "/" + i, r.arrivedNanos());
                    }
                    seen.merge(n.id(), v, Math::max);
                    last = Math.max(last, v);
                }
            }
        }, e -> {
            if (running.get()) {
                System.err.println("long-poll on " + n.id() + " ended: " + e);
            }
        });
    }

    private void etcd(Table t) throws Exception {
        Path dir = Results.workDir("etcd-propagation");
        Files.createDirectories(dir);
        try (EtcdCluster e = new EtcdCluster(dir, 3, IP_BASE + 10, PORT_BASE + 200)) {
            e.startAll(dir);
            for (int i = 0; i < 3; i++) {
                final int m = i;
                Awaitility.await("etcd member " + i).atMost(Duration.ofSeconds(60)).until(() -> e.healthy(m));
            }
            String key = Base64.getEncoder().encodeToString("/kg/prop".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            byte[] payload = new byte[64 * 1024];
            new Random(1).nextBytes(payload);
            Map<String, Long> arrival = new ConcurrentHashMap<>();
            Map<Integer, Integer> events = new ConcurrentHashMap<>();
            Map<Integer, Boolean> created = new ConcurrentHashMap<>();
            List<LeanHttp> watches = new ArrayList<>();
            AtomicBoolean closing = new AtomicBoolean();
            for (int m = 1; m < 3; m++) {
                final int member = m;
                LeanHttp watch = new LeanHttp(URI.create(e.clientUrl(m)));
                watches.add(watch);
                LeanHttp.start("etcd-watch-" + m, () -> watch.postStreamingLines("/v3/watch",
                        "{\"create_request\":{\"key\":\"" + key + "\"}}", (line, now) -> {
                    if (line.contains("\"events\"")) {
                        // arrival first, then the count the waiter polls (one reader thread per watch stream)
                        int count = events.getOrDefault(member, 0) + 1;
                        arrival.put(member + "/" + count, now);
                        events.put(member, count);
                    } else if (line.contains("\"created\":true")) {
                        created.put(member, true);
                    }
                }), failed -> {
                    if (!closing.get()) {
                        System.err.println("etcd watch on member " + member + " ended: " + failed);
                    }
                });
            }
            // etcd answers a watch's creation with a first message of its own: every put after it is seen
            Awaitility.await("watches created").atMost(Duration.ofSeconds(10)).until(() -> created.size() == 2);
            Percentiles all = new Percentiles();
            Percentiles call = new Percentiles();
            long cpu0 = 0;
            for (int round = 1; round <= WARMUP + ROUNDS; round++) {
                if (round == WARMUP + 1) {
                    cpu0 = e.cpuTicks();
                }
                payload[0] = (byte) round;
                String body = "{\"key\":\"" + key + "\",\"value\":\"" + Base64.getEncoder().encodeToString(payload) + "\"}";
                long t0 = System.nanoTime();
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(e.clientUrl(0) + "/v3/kv/put"))
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
                boolean counted = round > WARMUP;
                if (counted) {
                    call.add((System.nanoTime() - t0) / 1e6);
                }
                if (r.statusCode() != 200) {
                    throw new IllegalStateException("etcd put: " + r.statusCode() + " " + r.body());
                }
                final int want = round;
                Awaitility.await("etcd event " + round).atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(1))
                        .until(() -> events.getOrDefault(1, 0) >= want && events.getOrDefault(2, 0) >= want);
                long last = Math.max(arrival.get("1/" + round), arrival.get("2/" + round));
                if (counted) {
                    all.add((last - t0) / 1e6);
                }
                idleAfterRound();
            }
            double cpuMs = (e.cpuTicks() - cpu0) * 10.0 / ROUNDS;
            t.row(EtcdCluster.version() + " (put -> watch on the 2 others)", 3, all.count(), all.summary(),
                    String.format(java.util.Locale.ROOT, "%.1f / %.1f", call.pct(50), call.pct(99)),
                    String.format(java.util.Locale.ROOT, "%.1f", cpuMs), "-");
            closing.set(true);
            for (LeanHttp w : watches) {
                w.close();
            }
        }
    }
}
