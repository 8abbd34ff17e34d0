package io.knowngood.testkit.run;

import io.knowngood.api.ClusterView;
import io.knowngood.testkit.Ci;
import io.knowngood.testkit.check.Checkers;
import io.knowngood.testkit.cluster.ChaosCluster;
import io.knowngood.testkit.fault.Fault;
import io.knowngood.testkit.fault.NetworkFaults;
import io.knowngood.testkit.measure.Percentiles;
import io.knowngood.testkit.process.NodeProcess;
import io.knowngood.testkit.workload.History;
import io.knowngood.testkit.workload.Workload;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * One seeded run: a real mesh, the workload, a random sequence of faults (each inject, hold, heal,
 * converge), then the checkers. The seed alone replays the fault order and targets.
 */
public final class ChaosRun {
    /**
     * One fault cycle: which fault, what the workload did meanwhile, when it was healed (to find the
     * cycle in the node logs) and the time to converge after the heal.
     */
    public record Cycle(String fault, String detail, Instant healed, long convergeMillis) {
    }

    /** Cycles listed, slowest first and with their heal time, under a long run's percentile table: its tail, to look up in the node logs. */
    static final int SLOWEST_LISTED = 6;

    /** What a run saw: its cycles, the faults it skipped (and why), and every checker's violations. */
    public record Report(long seed, List<Cycle> cycles, List<String> skipped, long fetches, long fetchesOk,
                  List<String> unverified, List<String> regressions, List<String> unavailable, List<String> notConverged,
                  List<String> faultViolations) {
        public boolean passed() {
            return unverified.isEmpty() && regressions.isEmpty() && unavailable.isEmpty() && notConverged.isEmpty()
                    && faultViolations.isEmpty();
        }

        /** The fault table and summary lines, as printed after a run. */
        public String table() {
            StringBuilder b = new StringBuilder();
            b.append(String.format(Locale.ROOT, "chaos seed %d: %d cycles, skipped %s%n", seed, cycles.size(), skipped));
            if (cycles.size() <= 40) {
                b.append(String.format(Locale.ROOT, "| %-18s | %-28s | %-11s |%n", "fault", "workload", "converge ms"));
                for (Cycle c : cycles) {
                    b.append(String.format(Locale.ROOT, "| %-18s | %-28s | %11d |%n", c.fault, c.detail, c.convergeMillis));
                }
            } else {
                java.util.Map<String, Percentiles> byFault = new java.util.TreeMap<>();
                cycles.forEach(c -> byFault.computeIfAbsent(c.fault, k -> new Percentiles()).add(c.convergeMillis));
                b.append(String.format(Locale.ROOT, "| %-18s | %6s | %-32s |%n", "fault", "cycles", "converge p50 / p99 / max ms"));
                byFault.forEach((fault, p) -> b.append(String.format(Locale.ROOT, "| %-18s | %6d | %10.0f / %8.0f / %8.0f |%n",
                        fault, p.count(), p.pct(50), p.pct(99), p.pct(100))));
                b.append("slowest cycles (number, fault, healed at, converge ms):").append(System.lineSeparator());
                java.util.stream.IntStream.range(0, cycles.size()).boxed()
                        .sorted(java.util.Comparator.comparingLong((Integer i) -> cycles.get(i).convergeMillis).reversed())
                        .limit(SLOWEST_LISTED)
                        .forEach(i -> b.append(String.format(Locale.ROOT, "  %4d %-18s %s %6d  %s%n", i + 1, cycles.get(i).fault,
                                cycles.get(i).healed, cycles.get(i).convergeMillis, cycles.get(i).detail)));
            }
            Percentiles all = new Percentiles();
            cycles.forEach(c -> all.add(c.convergeMillis));
            b.append(String.format(Locale.ROOT,
                    "fetches %d, ok %d (%.2f%%); invalid served %d; regressions %d; unavailable while up %d; not converged %d; fault checks failed %d%n",
                    fetches, fetchesOk, fetches == 0 ? 0.0 : 100.0 * fetchesOk / fetches, unverified.size(),
                    regressions.size(), unavailable.size(), notConverged.size(), faultViolations.size()));
            if (all.count() > 0) {
                b.append(String.format(Locale.ROOT, "convergence after heal: p50 %.0f ms, p99 %.0f ms, max %.0f ms%n",
                        all.pct(50), all.pct(99), all.pct(100)));
            }
            return b.toString();
        }
    }

    private final long seed;
    private final Path dir;
    private final Path jar;
    private final int nodes;
    private final int ipBase;
    private final int portBase;
    private final Duration hold;
    private final Duration convergeBound;
    private boolean strict = Ci.strict();
    private List<String> sites = List.of();

    public ChaosRun(long seed, Path dir, Path jar, int nodes, int ipBase, int portBase, Duration hold, Duration convergeBound) {
        this.seed = seed;
        this.dir = dir;
        this.jar = jar;
        this.nodes = nodes;
        this.ipBase = ipBase;
        this.portBase = portBase;
        this.hold = hold;
        this.convergeBound = convergeBound;
    }

    /** Runs the mesh as these sites, the nodes split evenly between them ({@link ChaosCluster#sites}). */
    public ChaosRun sites(List<String> names) {
        if (names.isEmpty() || nodes % names.size() != 0) {
            throw new IllegalArgumentException(nodes + " nodes do not split evenly into sites " + names);
        }
        this.sites = List.copyOf(names);
        return this;
    }

    /** Whether a fault that cannot run fails the run (default: {@link Ci#strict()}, i.e. CI=true) instead of being skipped. */
    public ChaosRun strict(boolean strict) {
        this.strict = strict;
        return this;
    }

    /**
     * Runs every fault {@code cyclesPerFault} times in seeded random order. A fault that cannot run
     * here is skipped and named in the report; when {@link #strict(boolean) strict} (under CI=true) it
     * fails the run with an {@link AssertionError} before any node starts instead.
     */
    public Report run(List<Fault> faults, int cyclesPerFault) throws Exception {
        Random random = new Random(seed);
        List<Fault> plan = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        for (Fault f : faults) {
            String why = f.unavailableBecause();
            if (!Ci.available(why == null ? null : "fault " + f.name() + ": " + why, strict)) {
                skipped.add(f.name() + " (" + why + ")");
                continue;
            }
            for (int i = 0; i < cyclesPerFault; i++) {
                plan.add(f);
            }
        }
        Collections.shuffle(plan, random);
        boolean network = plan.stream().anyMatch(f -> f instanceof NetworkFaults.IptablesFault);
        History history = new History();
        List<Cycle> cycles = new ArrayList<>();
        List<String> notConverged = new ArrayList<>();
        if (network) {
            NetworkFaults.setUp();
        }
        List<String> faultViolations = new ArrayList<>();
        try (ChaosCluster cluster = sites.isEmpty() ? new ChaosCluster(dir, jar, nodes, ipBase, portBase)
                : ChaosCluster.sites(dir, jar, sites, nodes / sites.size(), ipBase, portBase);
             Workload load = new Workload(cluster, history, List.of("desktop-base", "printers", "vpn"), Clock.systemUTC(), seed)) {
            if (CLASS_SHARING) {
                cluster.shareClasses();
            }
            cluster.startAll();
            load.seed();
            converge(cluster, load, convergeBound);
            load.start(Duration.ofMillis(500), Duration.ofMillis(100));
            for (Fault f : plan) {
                load.excused().addAll(ids(cluster));
                long acksBefore = load.acks();
                if (!formed(cluster, STACKS_AFTER) && dumpStacks(cluster, f.name() + "-" + cycles.size())
                        && !formed(cluster, FORMED_BOUND.minus(STACKS_AFTER))) {
                    notConverged.add(f.name() + ": the mesh had not re-formed within " + FORMED_BOUND
                            + " before this fault (" + states(cluster) + "); stacks beside the node logs");
                }
                List<NodeProcess> affected = f.inject(cluster, random);
                // narrow the excuse to the affected nodes without a moment in which they are not excused
                // (clear-then-add let a fetch from a just-killed node count as "up": soak 2026-12-01)
                List<String> affectedIds = affected.stream().map(NodeProcess::id).toList();
                load.excused().retainAll(affectedIds);
                holdFor(hold);
                load.excused().addAll(ids(cluster));
                f.heal(cluster);
                // nodes the fault hit stay excused until the mesh has converged (a restored or damaged
                // store withholds what it cannot vouch for until a peer supplies it)
                load.excused().retainAll(affectedIds);
                load.publisherDown(true);
                Instant healed = Instant.now();
                long ms;
                try {
                    converge(cluster, load, convergeBound);
                    ms = Duration.between(healed, Instant.now()).toMillis();
                } catch (ConditionTimeoutException e) {
                    ms = convergeBound.toMillis();
                    notConverged.add(f.name() + ": not converged within " + convergeBound + " (" + status(cluster, load) + ")");
                }
                String observed = f.observed();
                cycles.add(new Cycle(f.name(), (load.acks() - acksBefore) + " publishes during the fault"
                        + (observed.isEmpty() ? "" : "; " + observed), healed, ms));
                load.excused().clear();
                load.publisherDown(false);
            }
        } finally {
            if (network) {
                NetworkFaults.tearDown();
            }
            for (Fault f : new java.util.LinkedHashSet<>(plan)) {
                f.cleanup();
                f.violations().forEach(v -> faultViolations.add(f.name() + ": " + v));
            }
        }
        Report r = new Report(seed, cycles, skipped, history.fetches().size(), Checkers.fetchesOk(history),
                Checkers.noUnverifiedServed(history), Checkers.noRegression(history), Checkers.availability(history), notConverged,
                faultViolations);
        if (!r.passed()) {
            save(history);
        }
        return r;
    }

    /** The system property naming the fault kinds a run is limited to ({@code -Dchaos.faults=a,b}). */
    public static final String FAULTS_PROPERTY = "chaos.faults";

    /**
     * The faults a tier runs: without {@code names} (null or blank) every fault of {@code catalogue}
     * except those named in {@code notByDefault}; with {@code names} (comma-separated, as given by
     * {@code -Dchaos.faults}) exactly the faults of those kinds, in catalogue order, repeats kept (a
     * tier may list a fault twice to weight it). A name the catalogue does not hold is a mistake in the
     * command line and throws, listing the names it knows.
     */
    public static List<Fault> select(List<Fault> catalogue, String names, java.util.Set<String> notByDefault) {
        if (names == null || names.isBlank()) {
            return catalogue.stream().filter(f -> !notByDefault.contains(f.name())).toList();
        }
        java.util.Set<String> wanted = new java.util.LinkedHashSet<>();
        for (String n : names.split(",")) {
            if (!n.isBlank()) {
                wanted.add(n.trim());
            }
        }
        java.util.Set<String> known = new java.util.LinkedHashSet<>();
        catalogue.forEach(f -> known.add(f.name()));
        List<String> unknown = wanted.stream().filter(n -> !known.contains(n)).toList();
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("-D" + FAULTS_PROPERTY + " names unknown fault kinds " + unknown + "; this tier knows " + known);
        }
        return catalogue.stream().filter(f -> wanted.contains(f.name())).toList();
    }

    /**
     * How long a cycle waits, after the previous one converged, for every node to report the whole
     * mesh (state CLUSTERED: its cache started and every configured peer in its view). A fault is
     * defined on a formed mesh: a node still joining after a kill -9 when a cut begins is a restart
     * during a partition, another scenario (seen in the soak: a restarted node whose cache start took
     * 17 s under load was left alone in its view by a bridge cut, and bridge-relay's 10 s check then
     * measured the merge). Not forming within this bound fails the run (the fault starts anyway). It covers
     * one cache start abandoned at its 30 s bound and retried, and a coordinator's hand-over (12 s, then a
     * rejoin; docs/chaos.md "Found"). Before the hand-over, starts held over two or three 30 s attempts
     * failed soaks here.
     */
    static final Duration FORMED_BOUND = Duration.ofSeconds(60);

    /**
     * Whether nodes start with an AppCDS archive made at the run's start ({@link ChaosCluster#shareClasses}),
     * as {@code bin/kgnode} starts them on a host; {@code -Dchaos.cds=false} starts them without one.
     */
    static final boolean CLASS_SHARING = Boolean.parseBoolean(System.getProperty("chaos.cds", "true"));

    /** A mesh still not re-formed after this long has every node's stacks written beside its log. */
    static final Duration STACKS_AFTER = Duration.ofSeconds(20);

    /**
     * Writes {@code jcmd PID Thread.print} of every running node to {@code <log>.stacks-<tag>.txt}: a
     * hung cache start waits on the coordinator and the third member, whose stacks say why. Always
     * true, so it chains between the two waits.
     */
    private static boolean dumpStacks(ChaosCluster c, String tag) {
        for (NodeProcess n : c.nodes()) {
            if (!n.isAlive()) {
                continue;
            }
            Path out = n.log().resolveSibling(n.log().getFileName() + ".stacks-" + tag + ".txt");
            try {
                Process p = new ProcessBuilder("jcmd", Long.toString(n.pid()), "Thread.print", "-l")
                        .redirectErrorStream(true).redirectOutput(out.toFile()).start();
                if (!p.waitFor(20, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
                System.out.println("note: the mesh is not re-formed after " + STACKS_AFTER + ": stacks of " + n.id() + " in " + out);
            } catch (IOException e) {
                System.out.println("note: could not take the stacks of " + n.id() + ": " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return true;
            }
        }
        return true;
    }

    private static boolean formed(ChaosCluster c, Duration bound) {
        try {
            Awaitility.await("every node reports the whole mesh").atMost(bound)
                    .pollInterval(Duration.ofMillis(100)).pollDelay(Duration.ZERO)
                    .until(() -> c.nodes().stream().allMatch(n -> "CLUSTERED".equals(state(n))));
            return true;
        } catch (ConditionTimeoutException e) {
            return false;
        }
    }

    private static String states(ChaosCluster c) {
        StringBuilder b = new StringBuilder();
        for (NodeProcess n : c.nodes()) {
            b.append(b.length() == 0 ? "" : ", ").append(n.id()).append('=').append(state(n));
        }
        return b.toString();
    }

    /** The node's mesh state from its admin {@code GET /v1/cluster}, or {@code no answer}. */
    private static String state(NodeProcess n) {
        return n.clusterView().map(ClusterView::state).orElse("no answer");
    }

    private static List<String> ids(ChaosCluster c) {
        return c.nodes().stream().map(NodeProcess::id).toList();
    }

    /** Every node serves the highest acknowledged version of every bundle. */
    private static void converge(ChaosCluster c, Workload load, Duration bound) {
        Awaitility.await("all nodes serve the highest acknowledged versions").atMost(bound)
                .pollInterval(Duration.ofMillis(50)).pollDelay(Duration.ZERO)
                .until(() -> {
                    for (String b : load.bundles()) {
                        long want = load.maxAcked(b);
                        for (NodeProcess n : c.nodes()) {
                            ChaosCluster.Served s = c.fetch(n, b);
                            if (s.status() != 200 || s.version() < want) {
                                return false;
                            }
                        }
                    }
                    return true;
                });
    }

    private static String status(ChaosCluster c, Workload load) {
        StringBuilder b = new StringBuilder();
        for (String bundle : load.bundles()) {
            b.append(bundle).append(" want ").append(load.maxAcked(bundle)).append(':');
            for (NodeProcess n : c.nodes()) {
                b.append(' ').append(n.id()).append('=').append(c.fetch(n, bundle).version());
            }
            b.append("; ");
        }
        return b.toString();
    }

    /** A fault's duration: the workload keeps running meanwhile; this is not a wait for a condition. */
    private static void holdFor(Duration d) {
        Awaitility.await().pollDelay(d).atMost(d.plusSeconds(5)).until(() -> true);
    }

    private void save(History h) throws IOException {
        Path out = dir.resolve("history-" + seed + ".txt");
        List<String> lines = new ArrayList<>();
        h.faults().forEach(f -> lines.add(f.toString()));
        h.publishes().forEach(p -> lines.add(p.toString()));
        h.fetches().forEach(f -> lines.add(f.toString()));
        Files.write(out, lines);
    }
}
