package io.knowngood.bench;

import io.knowngood.api.ApiJson;
import io.knowngood.api.VmHealth;
import io.knowngood.testkit.cluster.ChaosCluster;
import io.knowngood.testkit.fault.Fault;
import io.knowngood.testkit.fault.NetworkFaults;
import io.knowngood.testkit.measure.Percentiles;
import io.knowngood.testkit.process.NodeProcess;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * Heal convergence: 3 real kgnode processes over the TLS mesh with the shipped timers ({@code lan}), on
 * 127.0.0.101-103 (or from {@code -Dchaos.ipBase=N}; cluster ports 19100+, VM 19200+, admin 19300+).
 * Each cycle partitions the mesh with iptables ({@link NetworkFaults}: isolate-one, split-in-two,
 * one-way-drop, bridge), in mode {@code noticed} waits until the split is noticed and publishes a new
 * version on each side (in mode {@code early}: publishes on every node and heals 0.5-3.5 s after the
 * cut), heals, and measures the time from the heal until every node serves the highest version, seen by
 * a long-poll on each node's VM endpoint (so the figure is not coarser than an HTTP round trip). Beside
 * it, the time until every node's view has all 3 members again (its health polled every 20 ms).
 * Per-cycle lines go to bench/target/work/heal/cycles.txt, the nodes' logs beside them. Needs root. Run:
 * {@code bench/run.sh HealBench [-Dbench.cycles=20] [-Dbench.heal.kinds=isolate-one,split-in-two,one-way-drop,bridge]
 * [-Dbench.heal.modes=noticed,early] [-Dbench.heal.holdMs=2000] [-Dbench.seed=N] [-Dchaos.ipBase=101]}.
 * With the bridge, the column "all served max before the heal" counts cycles where the update had
 * already crossed through the third node while the cut held.
 */
public final class HealBench {
    private static final int CYCLES = Integer.getInteger("bench.cycles", 20);
    private static final List<String> KINDS = List.of(
            System.getProperty("bench.heal.kinds", "isolate-one,split-in-two,one-way-drop,bridge").split(","));
    /**
     * The partition lasts a further uniform 0..holdMs after both sides published, so heals fall at every
     * phase of the members' periodic timers (MERGE3's check, FD_ALL3's heartbeats), not at one.
     */
    private static final int HOLD_MAX_MS = Integer.getInteger("bench.heal.holdMs", 2000);
    private static final long SEED = Long.getLong("bench.seed", 20261125L);
    /**
     * {@code noticed}: heal after the views showed the partition. {@code early}: heal at a uniform
     * 0.5-3.5 s after the partition, noticed or not (as the chaos soak does), after a publish on every
     * node; shows the race where failure detection excludes a member after the heal. Both by default;
     * {@code -Dbench.heal.early=true} (the older switch) means early only.
     */
    private static final List<String> MODES = modes();
    private static final Duration CONVERGE_BOUND = Duration.ofSeconds(30);
    private static final String NAME = "heal";

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private HealBench() {
    }

    private static List<String> modes() {
        String v = System.getProperty("bench.heal.modes", Boolean.getBoolean("bench.heal.early") ? "early" : "noticed,early");
        List<String> modes = new ArrayList<>();
        for (String m : v.split(",")) {
            if (!m.isBlank()) {
                if (!m.trim().equals("noticed") && !m.trim().equals("early")) {
                    throw new IllegalArgumentException("unknown -Dbench.heal.modes entry " + m + " (noticed, early)");
                }
                modes.add(m.trim());
            }
        }
        return List.copyOf(modes);
    }

    public static void main(String[] args) {
        Results.main("HealBench", args, r -> new HealBench().measure(r));
    }

    private void measure(Results results) throws Exception {
        int ipBase = ChaosCluster.ipBaseProperty(101);
        results.param("cycles", CYCLES).param("kinds", KINDS).param("modes", MODES).param("holdMaxMs", HOLD_MAX_MS)
                .param("seed", SEED).param("ipBase", ipBase);
        String why = NetworkFaults.unavailableBecause();
        if (why != null) {
            results.note("heal convergence not measured: " + why);
            return;
        }
        Path jar = NodeProcess.jar();
        Path dir = Results.workDir("heal");
        Results.Table table = results.table("heal convergence, 3 nodes (TLS mesh, lan timers), seed " + SEED
                        + "; noticed: split noticed, one publish per side, partition held 0-" + HOLD_MAX_MS
                        + " ms more; early: publish on every node, heal 0.5-3.5 s after the partition whether noticed or not",
                "mode", "partition", "cycles", "heal -> all serve max p50 / p95 / p99 / max ms", "not converged (30 s)",
                "all served max before the heal", "heal -> full view p50 / p99 / max ms", "split not noticed (15 s)",
                "cycles with a publish not answered 201 in 10 s");
        StringBuilder detail = new StringBuilder();
        Random random = new Random(SEED);
        NetworkFaults.setUp();
        try (ChaosCluster c = new ChaosCluster(dir, jar, 3, ipBase, 19100)) {
            c.startAll();
            awaitFullView(c, Duration.ofSeconds(60));
            version = 1;
            if (c.publish(c.node(0), NAME, c.pack(NAME, version)) != 201) {
                throw new IllegalStateException("first publish refused");
            }
            Awaitility.await("v1 everywhere").atMost(CONVERGE_BOUND).until(() ->
                    c.nodes().stream().allMatch(n -> c.fetch(n, NAME).version() >= 1));
            for (String mode : MODES) {
                for (String kind : KINDS) {
                    Fault fault = fault(kind);
                    Tally t = new Tally();
                    for (int cycle = 1; cycle <= CYCLES; cycle++) {
                        awaitFullView(c, CONVERGE_BOUND);
                        if (mode.equals("early")) {
                            early(c, fault, kind, cycle, random, t, detail);
                        } else {
                            noticed(c, fault, kind, cycle, random, t, detail);
                        }
                    }
                    table.row(mode, kind, CYCLES, String.format(Locale.ROOT, "%.0f / %.0f / %.0f / %.0f",
                            t.converge.pct(50), t.converge.pct(95), t.converge.pct(99), t.converge.pct(100)), t.notConverged,
                            t.servedBeforeHeal, String.format(Locale.ROOT, "%.0f / %.0f / %.0f", t.view.pct(50), t.view.pct(99), t.view.pct(100)),
                            mode.equals("early") ? "-" : Integer.toString(t.notNoticed), t.failedPublishes);
                }
            }
        } finally {
            NetworkFaults.tearDown();
        }
        // per-cycle lines (views at publish time, publishers, both timings) for reading the tail
        java.nio.file.Files.writeString(dir.resolve("cycles.txt"), detail);
        System.out.println("\n" + detail);
        results.note("per-cycle lines: " + dir.resolve("cycles.txt"));
    }

    /** The highest version published so far. */
    private long version;

    /** What one (mode, partition kind) row counts over its cycles. */
    private static final class Tally {
        final Percentiles converge = new Percentiles();
        final Percentiles view = new Percentiles();
        int notConverged;
        int notNoticed;
        int failedPublishes;
        int servedBeforeHeal;

        void add(Heal h) {
            if (h.convergedMs < 0) {
                notConverged++;
            } else {
                converge.add(h.convergedMs);
            }
            if (h.fullViewMs >= 0) {
                view.add(h.fullViewMs);
            }
            if (h.servedBeforeHeal) {
                servedBeforeHeal++;
            }
        }
    }

    /** Early: publish on every node at once, heal 0.5-3.5 s after the cut whether or not it was noticed. */
    private void early(ChaosCluster c, Fault fault, String kind, int cycle, Random random, Tally t, StringBuilder detail) throws Exception {
        fault.inject(c, random);
        long injected = System.nanoTime();
        version = publishEverywhere(c, version);
        Duration heal = Duration.ofMillis(500 + random.nextInt(3001));
        Duration left = heal.minusNanos(System.nanoTime() - injected);
        if (!left.isNegative() && !left.isZero()) {
            // the partition's duration, not a wait for a condition
            Awaitility.await().pollDelay(left).atMost(left.plusSeconds(5)).until(() -> true);
        }
        Map<NodeProcess, Set<String>> views = currentViews(c);
        Heal h = healAndMeasure(c, fault, version);
        t.add(h);
        detail.append(String.format(Locale.ROOT, "%s early cycle %d: healed %d ms after inject at %s, views then %s; converged %.0f ms%s%n",
                kind, cycle, heal.toMillis(), h.healedAt, views.values(), h.convergedMs, h.servedBeforeHeal ? " (all served it before the heal)" : ""));
    }

    /** Noticed: wait until the views show the cut, publish once per side, hold 0-holdMs more, heal. */
    private void noticed(ChaosCluster c, Fault fault, String kind, int cycle, Random random, Tally t, StringBuilder detail) throws Exception {
        fault.inject(c, random);
        Map<NodeProcess, Set<String>> views = awaitSplitNoticed(c);
        if (views == null) {
            t.notNoticed++;
            views = currentViews(c);
        }
        // one publisher per distinct view (two different nodes when the split went unnoticed)
        List<NodeProcess> publishers = new ArrayList<>();
        List<Set<String>> seen = new ArrayList<>();
        views.forEach((n, v) -> {
            if (!seen.contains(v)) {
                seen.add(v);
                publishers.add(n);
            }
        });
        if (publishers.size() < 2) {
            publishers.add(c.nodes().stream().filter(n -> !publishers.contains(n)).findFirst().orElseThrow());
        }
        List<String> publishFailures = new ArrayList<>();
        for (NodeProcess p : publishers) {
            version++;
            int status = c.publish(p, NAME, c.pack(NAME, version));
            if (status != 201) {
                publishFailures.add(p.id() + " v" + version + " -> " + status);
            }
        }
        if (!publishFailures.isEmpty()) {
            t.failedPublishes++;
            detail.append(kind).append(" cycle ").append(cycle).append(": publish not answered 201 within 10 s: ")
                    .append(publishFailures).append('\n');
        }
        // the target is what some node actually holds (a publish that timed out may still have stored)
        long max = c.nodes().stream().mapToLong(n -> c.fetch(n, NAME).version()).max().orElseThrow();
        Duration hold = Duration.ofMillis(random.nextInt(HOLD_MAX_MS + 1));
        if (!hold.isZero()) {
            // the partition's duration, not a wait for a condition
            Awaitility.await().pollDelay(hold).atMost(hold.plusSeconds(5)).until(() -> true);
        }
        Heal h = healAndMeasure(c, fault, max);
        t.add(h);
        detail.append(String.format(Locale.ROOT, "%s cycle %d: views at publish %s, published on %s, healed at %s; converged %.0f ms, full view %.0f ms%s%n",
                kind, cycle, views.values(), publishers, h.healedAt, h.convergedMs, h.fullViewMs,
                h.servedBeforeHeal ? " (all served it before the heal)" : ""));
    }

    /**
     * Early mode: publishes a new version on every node at once (the sides are not known yet), returns
     * the highest, once every node holds its own (or a higher) version. The publish calls themselves may
     * wait for confirmations until the publish timeout; they are not waited for.
     */
    private static long publishEverywhere(ChaosCluster c, long version) {
        Map<NodeProcess, Long> own = new LinkedHashMap<>();
        for (NodeProcess n : c.nodes()) {
            long v = ++version;
            own.put(n, v);
            byte[] archive = c.pack(NAME, v);
            java.util.concurrent.CompletableFuture.runAsync(() -> c.publish(n, NAME, archive));
        }
        Awaitility.await("every node stored its publish").atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(20))
                .until(() -> own.entrySet().stream().allMatch(e -> c.fetch(e.getKey(), NAME).version() >= e.getValue()));
        return version;
    }

    private static Fault fault(String kind) {
        switch (kind.trim()) {
            case "isolate-one": return new NetworkFaults.IsolateOne();
            case "split-in-two": return new NetworkFaults.SplitInTwo();
            case "one-way-drop": return new NetworkFaults.OneWayDrop();
            case "bridge": return new NetworkFaults.Bridge();
            default: throw new IllegalArgumentException("unknown partition kind " + kind + " (isolate-one, split-in-two, one-way-drop, bridge)");
        }
    }

    /** {@code servedBeforeHeal}: every node served the target already when the cut was removed (a bridge relayed it). */
    private record Heal(java.time.Instant healedAt, double convergedMs, double fullViewMs, boolean servedBeforeHeal) {
    }

    /**
     * Long-polls every node from the version it serves now, heals, and records when the last node
     * serves {@code max}; meanwhile polls health every 20 ms for the moment every view is whole again.
     */
    private Heal healAndMeasure(ChaosCluster c, Fault fault, long max) throws Exception {
        Map<String, Long> arrival = new ConcurrentHashMap<>();
        AtomicBoolean running = new AtomicBoolean(true);
        try {
            boolean before = true;
            for (NodeProcess n : c.nodes()) {
                long now = c.fetch(n, NAME).version();
                before &= now >= max;
                poll(n, now, max, arrival, running);
            }
            fault.heal(c);
            long t0 = System.nanoTime();
            java.time.Instant healedAt = java.time.Instant.now();
            long[] fullView = {-1};
            double converged;
            try {
                Awaitility.await("every node serves v" + max).atMost(CONVERGE_BOUND).pollDelay(Duration.ZERO)
                        .pollInterval(Duration.ofMillis(20)).until(() -> {
                            if (fullView[0] < 0 && c.nodes().stream().allMatch(n -> members(n) == c.nodes().size())) {
                                fullView[0] = System.nanoTime();
                            }
                            return arrival.size() == c.nodes().size();
                        });
                long last = arrival.values().stream().mapToLong(Long::longValue).max().orElseThrow();
                converged = Math.max(0, last - t0) / 1e6;
            } catch (ConditionTimeoutException e) {
                converged = -1;
            }
            if (fullView[0] < 0) {
                try {
                    awaitFullView(c, CONVERGE_BOUND);
                    fullView[0] = System.nanoTime();
                } catch (ConditionTimeoutException e) {
                    return new Heal(healedAt, converged, -1, before);
                }
            }
            return new Heal(healedAt, converged, Math.max(0, fullView[0] - t0) / 1e6, before);
        } finally {
            running.set(false);
        }
    }

    /** A VM's long-poll on one node: notes when it first serves {@code max} or higher. */
    private void poll(NodeProcess n, long after, long max, Map<String, Long> arrival, AtomicBoolean running) {
        if (!running.get()) {
            return;
        }
        if (after >= max) {
            arrival.putIfAbsent(n.id(), System.nanoTime());
            return;
        }
        HttpRequest req = HttpRequest.newBuilder(URI.create(n.vmUrl() + "/v1/bundles/" + NAME + "?wait=30&after=" + after))
                .timeout(Duration.ofSeconds(40)).build();
        http.sendAsync(req, HttpResponse.BodyHandlers.discarding()).whenComplete((r, err) -> {
            long next = after;
            if (err == null && r.statusCode() == 200) {
                next = Math.max(after, r.headers().firstValueAsLong("X-Knowngood-Version").orElse(after));
            }
            poll(n, next, max, arrival, running);
        });
    }

    private void awaitFullView(ChaosCluster c, Duration bound) {
        Awaitility.await("every node sees all " + c.nodes().size() + " members").atMost(bound).pollInterval(Duration.ofMillis(20))
                .until(() -> c.nodes().stream().allMatch(n -> members(n) == c.nodes().size()));
    }

    /**
     * Waits (at most 15 s) until the views show the partition: at least one node no longer sees every
     * member, and every node's view is one that all its members share; or, for a one-way drop, where the
     * side that still receives may never agree, some view has lacked a member for 2 s. Null when no view
     * ever lacked a member.
     */
    private Map<NodeProcess, Set<String>> awaitSplitNoticed(ChaosCluster c) {
        long[] firstPartial = {0};
        try {
            return Awaitility.await("split noticed").atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(50))
                    .until(() -> currentViews(c), views -> {
                        if (views.values().stream().allMatch(v -> v.size() == c.nodes().size())) {
                            return false;
                        }
                        if (firstPartial[0] == 0) {
                            firstPartial[0] = System.nanoTime();
                        } else if (System.nanoTime() - firstPartial[0] > Duration.ofSeconds(2).toNanos()) {
                            return true;
                        }
                        for (Map.Entry<NodeProcess, Set<String>> e : views.entrySet()) {
                            for (NodeProcess other : c.nodes()) {
                                if (e.getValue().contains(other.id()) && !e.getValue().equals(views.get(other))) {
                                    return false;
                                }
                            }
                        }
                        return true;
                    });
        } catch (ConditionTimeoutException e) {
            return null;
        }
    }

    private Map<NodeProcess, Set<String>> currentViews(ChaosCluster c) {
        Map<NodeProcess, Set<String>> views = new LinkedHashMap<>();
        for (NodeProcess n : c.nodes()) {
            views.put(n, memberIds(n));
        }
        return views;
    }

    /** Member ids in the node's current view, from its admin endpoint; empty when it did not answer. */
    private static Set<String> memberIds(NodeProcess n) {
        Set<String> ids = new TreeSet<>();
        n.clusterView().ifPresent(v -> v.members().forEach(m -> ids.add(m.id())));
        return ids;
    }

    /** Members in the node's view from its VM health (the cheap call used while measuring); -1 when it did not answer. */
    private int members(NodeProcess n) {
        try {
            HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create(n.vmUrl() + "/v1/health"))
                    .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
            return ApiJson.decode(r.body(), VmHealth.class) instanceof ApiJson.Decoded.Body<VmHealth> health
                    ? health.value().cluster().members() : -1;
        } catch (java.io.IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }
}
