package io.knowngood.testkit.run;

import io.knowngood.api.ApiJson;
import io.knowngood.api.RolloutList;
import io.knowngood.api.VmReport;
import io.knowngood.crypto.bundle.RolloutPolicy;
import io.knowngood.testkit.Ci;
import io.knowngood.testkit.check.Checkers;
import io.knowngood.testkit.cluster.ChaosCluster;
import io.knowngood.testkit.fault.Fault;
import io.knowngood.testkit.fault.NetworkFaults;
import io.knowngood.testkit.measure.Percentiles;
import io.knowngood.testkit.process.NodeProcess;
import io.knowngood.testkit.vm.SimulatedVm;
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
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * The health-gated rollback under chaos: a real mesh serves {@code desk} v1 (no rollout policy); then
 * each cycle publishes the next version with a policy whose only wave is one random node (the canary),
 * {@code revert_failed} {@value #REVERT_FAILED} and a promotion that cannot happen within the run, so
 * only a revert ends it. The workload's VM clients fetch from every node all along; the canary's VMs
 * report the new version {@code failed} (each from its own loopback address, {@link SimulatedVm}) while a
 * seeded random fault is in place; then every node must show the version reverted and serve v1 again.
 * Optionally a last case isolates the canary from its peers before the reports: it must fall back
 * alone, within {@link #ISOLATED_FALLBACK_BOUND}. The checkers then read the whole history.
 */
public final class RolloutRun {
    public static final String BUNDLE = "desk";
    public static final int REVERT_FAILED = 2;
    /** The canary, cut off from every peer, falls back within this of the F-th failure report. */
    public static final Duration ISOLATED_FALLBACK_BOUND = Duration.ofSeconds(5);
    /** The name of the isolated-canary case in the cycle table. */
    public static final String ISOLATED_CANARY = "canary-isolated";
    private static final int PROMOTE_OK = 1_000;
    private static final long PROMOTE_AFTER_S = 24 * 3600;
    private static final long GOOD = 1;

    /**
     * One cycle: the fault and the canary; the ms from the report that made the canary's count reach
     * {@code revert_failed} to the canary serving the last good version, and to every node showing the
     * version reverted and serving that version (-1: not within the bound); the failure reports sent.
     */
    public record Cycle(int cycle, long version, String fault, String canary, long revertToFallbackMs, long allRevertedMs,
                        int reports) {
    }

    /** What a run saw, and every checker's violations. */
    public record Report(long seed, List<Cycle> cycles, List<String> skipped, long fetches, long fetchesOk,
                         List<String> unverified, List<String> regressions, List<String> outsideWaves, List<String> notReverted,
                         List<String> unavailable, long servedBeforeRevert, long fallbacksSeen) {
        /** The properties the scenario asserts (availability while a node restarts is reported, not asserted). */
        public boolean passed() {
            return unverified.isEmpty() && regressions.isEmpty() && outsideWaves.isEmpty() && notReverted.isEmpty();
        }

        public String table() {
            StringBuilder b = new StringBuilder();
            b.append(String.format(Locale.ROOT, "rollout chaos seed %d: %d cycles, skipped %s%n", seed, cycles.size(), skipped));
            b.append(String.format(Locale.ROOT, "| %5s | %7s | %-18s | %-6s | %7s | %24s | %22s |%n", "cycle", "version", "fault",
                    "canary", "reports", "revert-to-fallback ms", "all-nodes-reverted ms"));
            for (Cycle c : cycles) {
                b.append(String.format(Locale.ROOT, "| %5d | %7d | %-18s | %-6s | %7d | %24d | %22d |%n", c.cycle, c.version,
                        c.fault, c.canary, c.reports, c.revertToFallbackMs, c.allRevertedMs));
            }
            Percentiles fallback = new Percentiles();
            Percentiles all = new Percentiles();
            cycles.stream().filter(c -> c.revertToFallbackMs >= 0).forEach(c -> fallback.add(c.revertToFallbackMs));
            cycles.stream().filter(c -> c.allRevertedMs >= 0).forEach(c -> all.add(c.allRevertedMs));
            if (fallback.count() > 0) {
                b.append(String.format(Locale.ROOT, "revert-to-fallback: p50 %.0f ms, max %.0f ms; ", fallback.pct(50), fallback.pct(100)));
            }
            if (all.count() > 0) {
                b.append(String.format(Locale.ROOT, "all nodes reverted: p50 %.0f ms, max %.0f ms%n", all.pct(50), all.pct(100)));
            }
            b.append(String.format(Locale.ROOT,
                    "fetches %d, ok %d; canary fetches of a version later reverted %d; fallback fetches %d; invalid served %d; "
                            + "unexpected regressions %d; reverted served outside its waves %d; not reverted everywhere %d; "
                            + "unavailable while up %d (not asserted)%n",
                    fetches, fetchesOk, servedBeforeRevert, fallbacksSeen, unverified.size(), regressions.size(), outsideWaves.size(),
                    notReverted.size(), unavailable.size()));
            return b.toString();
        }
    }

    private final long seed;
    private final Path dir;
    private final Path jar;
    private final int ipBase;
    private final int portBase;
    private final Duration hold;
    private final Duration bound;
    private boolean strict = Ci.strict();

    /**
     * Three nodes on 127.0.0.(ipBase..); the VMs report from 127.0.(ipBase).x. {@code hold}: how long
     * each fault lasts; {@code bound}: the deadline of every wait (replication, revert everywhere).
     */
    public RolloutRun(long seed, Path dir, Path jar, int ipBase, int portBase, Duration hold, Duration bound) {
        this.seed = seed;
        this.dir = dir;
        this.jar = jar;
        this.ipBase = ipBase;
        this.portBase = portBase;
        this.hold = hold;
        this.bound = bound;
    }

    /** Whether a fault that cannot run fails the run (default: {@link Ci#strict()}) instead of being skipped. */
    public RolloutRun strict(boolean strict) {
        this.strict = strict;
        return this;
    }

    /**
     * {@code cycles} cycles, each with one of {@code faults} (every fault equally often, in seeded
     * order), then, when {@code isolatedCanary}, the isolated-canary case (needs iptables).
     */
    public Report run(List<Fault> faults, int cycles, boolean isolatedCanary) throws Exception {
        Random random = new Random(seed);
        List<Fault> usable = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        for (Fault f : faults) {
            String why = f.unavailableBecause();
            if (Ci.available(why == null ? null : "fault " + f.name() + ": " + why, strict)) {
                usable.add(f);
            } else {
                skipped.add(f.name() + " (" + why + ")");
            }
        }
        String noIptables = NetworkFaults.unavailableBecause();
        if (isolatedCanary && !Ci.available(noIptables == null ? null : ISOLATED_CANARY + ": " + noIptables, strict)) {
            skipped.add(ISOLATED_CANARY + " (" + noIptables + ")");
            isolatedCanary = false;
        }
        List<Fault> plan = new ArrayList<>();
        while (!usable.isEmpty() && plan.size() < cycles) {
            List<Fault> round = new ArrayList<>(usable);
            Collections.shuffle(round, random);
            plan.addAll(round);
        }
        plan = plan.subList(0, Math.min(cycles, plan.size()));
        boolean network = isolatedCanary || plan.stream().anyMatch(f -> f instanceof NetworkFaults.IptablesFault);
        History history = new History();
        List<Cycle> done = new ArrayList<>();
        List<String> notReverted = new ArrayList<>();
        VmAddresses vms = new VmAddresses(ipBase);
        if (network) {
            NetworkFaults.setUp();
        }
        try (ChaosCluster cluster = new ChaosCluster(dir, jar, 3, ipBase, portBase);
             Workload load = new Workload(cluster, history, List.of(BUNDLE), Clock.systemUTC(), seed)) {
            cluster.startAll();
            publish(cluster, history, cluster.node(0), cluster.pack(BUNDLE, GOOD), GOOD);
            awaitAll(cluster, "every node serves " + BUNDLE + " v1", n -> {
                ChaosCluster.Served s = cluster.fetch(n, BUNDLE);
                return s.status() == 200 && s.version() == GOOD;
            });
            load.startFetchers(Duration.ofMillis(100));
            long version = GOOD;
            int cycle = 0;
            List<Fault> steps = new ArrayList<>(plan);
            if (isolatedCanary) {
                steps.add(null);
            }
            for (Fault f : steps) {
                version++;
                cycle++;
                try {
                    done.add(cycle(cluster, load, history, vms, random, cycle, version, f, notReverted));
                } catch (ConditionTimeoutException e) {
                    // a wait outside the measured ones (publish, replication, a restart) ran out: the
                    // mesh is in an unknown state, so stop here, but still check and keep the history
                    notReverted.add("cycle " + cycle + " (" + (f == null ? ISOLATED_CANARY : f.name()) + ") stopped the run: "
                            + e.getMessage());
                    if (network) {
                        NetworkFaults.healAll();
                    }
                    break;
                }
                load.excused().clear();
            }
            // reverted is final: at the end every node still shows every cycle's version reverted
            for (NodeProcess n : cluster.nodes()) {
                for (long v = GOOD + 1; v <= version; v++) {
                    String st = stateOn(cluster, n, v);
                    if (!"reverted".equals(st)) {
                        notReverted.add("at the end " + n.id() + " shows " + BUNDLE + " v" + v + " " + st);
                    }
                }
            }
        } finally {
            if (network) {
                NetworkFaults.tearDown();
            }
            for (Fault f : new java.util.LinkedHashSet<>(plan)) {
                f.cleanup();
            }
        }
        Set<String> reverted = new java.util.HashSet<>();
        history.rollouts().stream().filter(History.RolloutEnd::reverted).forEach(e -> reverted.add(e.bundle() + "@" + e.version()));
        long servedBeforeRevert = history.fetches().stream()
                .filter(x -> x.status() == 200 && reverted.contains(x.bundle() + "@" + x.version())).count();
        long fallbacks = history.fetches().stream().filter(x -> x.status() == 200 && "fallback".equals(x.state())).count();
        Report r = new Report(seed, done, skipped, history.fetches().size(), Checkers.fetchesOk(history),
                Checkers.noUnverifiedServed(history), Checkers.noRegression(history), Checkers.revertedServedOnlyInItsWaves(history),
                notReverted, Checkers.availability(history), servedBeforeRevert, fallbacks);
        if (!r.passed()) {
            save(history);
        }
        return r;
    }

    /** One version through: publish to the canary, fault, failure reports, heal, reverted everywhere. {@code f} null: the isolated-canary case. */
    private Cycle cycle(ChaosCluster cluster, Workload load, History history, VmAddresses vms, Random random, int cycle, long version,
                        Fault f, List<String> notReverted) throws Exception {
        NodeProcess canary = cluster.node(random.nextInt(cluster.nodes().size()));
        String label = f == null ? ISOLATED_CANARY : f.name();
        RolloutPolicy policy = new RolloutPolicy(List.of(new RolloutPolicy.Hosts(List.of(canary.id()))), PROMOTE_OK,
                PROMOTE_AFTER_S, REVERT_FAILED);
        publish(cluster, history, canary, cluster.pack(BUNDLE, version, policy), version);
        // the version is held mesh-wide (the canary serves it, every other node holds it and must not)
        awaitAll(cluster, BUNDLE + " v" + version + " held everywhere, served by the canary " + canary.id(), n -> {
            ChaosCluster.Served s = cluster.fetch(n, BUNDLE);
            return s.status() == 200 && s.latest() == version && (n != canary || s.version() == version);
        });
        List<NodeProcess> affected;
        if (f == null) {
            for (NodeProcess o : cluster.nodes()) {
                if (o != canary) {
                    NetworkFaults.drop(canary.ip(), o.ip());
                    NetworkFaults.drop(o.ip(), canary.ip());
                }
            }
            affected = List.of();
        } else {
            load.excused().addAll(cluster.nodes().stream().map(NodeProcess::id).toList());
            affected = f.inject(cluster, random);
            load.excused().retainAll(affected.stream().map(NodeProcess::id).toList());
            if (!affected.isEmpty()) {
                label = label + " " + String.join(",", affected.stream().map(NodeProcess::id).toList());
            }
        }
        boolean canaryDown = affected.contains(canary);
        Duration fallbackBound = f == null ? ISOLATED_FALLBACK_BOUND : bound;
        Reverted rev = null;
        if (!canaryDown) {
            rev = reportUntilReverted(cluster, vms, canary, version, fallbackBound);
            if (f == null) {
                for (NodeProcess o : cluster.nodes()) {
                    ChaosCluster.Served s = cluster.fetch(o, BUNDLE);
                    if (o != canary && s.status() == 200 && s.version() == version) {
                        notReverted.add(label + " cycle " + cycle + ": " + o.id() + " serves v" + version + " while cut off from the canary");
                    }
                }
            }
        }
        holdFor(hold);
        if (f == null) {
            NetworkFaults.healAll();
        } else {
            load.excused().addAll(cluster.nodes().stream().map(NodeProcess::id).toList());
            f.heal(cluster);
            load.excused().retainAll(affected.stream().map(NodeProcess::id).toList());
        }
        if (canaryDown) {
            rev = reportUntilReverted(cluster, vms, canary, version, fallbackBound);
        }
        load.excused().clear();
        long allMs = -1;
        if (rev.at == null) {
            notReverted.add(label + " cycle " + cycle + ": the canary " + canary.id() + " did not answer reverted to "
                    + rev.reports + " failure reports (" + rev.last + ")");
        } else if (rev.fallbackMs < 0) {
            notReverted.add(label + " cycle " + cycle + ": the canary " + canary.id() + " did not serve v" + GOOD + " within "
                    + fallbackBound + " of the report that reverted v" + version);
        }
        try {
            awaitAll(cluster, "every node shows " + BUNDLE + " v" + version + " reverted and serves v" + GOOD,
                    n -> "reverted".equals(stateOn(cluster, n, version)) && servesGood(cluster, n));
            allMs = rev.at == null ? -1 : Duration.between(rev.at, Instant.now()).toMillis();
        } catch (ConditionTimeoutException e) {
            StringBuilder seen = new StringBuilder();
            for (NodeProcess n : cluster.nodes()) {
                ChaosCluster.Served s = cluster.fetch(n, BUNDLE);
                seen.append(' ').append(n.id()).append(": state ").append(stateOn(cluster, n, version)).append(", serves v")
                        .append(s.version()).append(' ').append(s.state()).append(';');
            }
            notReverted.add(label + " cycle " + cycle + ": not reverted everywhere within " + bound + " after the heal:" + seen);
        }
        String endState = stateOn(cluster, canary, version);
        history.add(new History.RolloutEnd(BUNDLE, version, endState == null ? "unknown" : endState, Set.of(canary.id())));
        return new Cycle(cycle, version, label, canary.id(), rev.fallbackMs, allMs, rev.reports);
    }

    /** When the canary answered reverted (null: never), the reports it took, the last answer, and the ms to the fallback. */
    private record Reverted(Instant at, int reports, String last, long fallbackMs) {
    }

    /**
     * Failure reports from new VMs to the canary until one is answered {@code reverted} (at most
     * {@code revert_failed} + 3 counted ones, so a canary that does not count them fails the cycle
     * instead of hanging it), then the time until the canary serves the last good version.
     */
    private Reverted reportUntilReverted(ChaosCluster cluster, VmAddresses vms, NodeProcess canary, long version, Duration fallbackBound) {
        int counted = 0;
        AtomicReference<SimulatedVm.Answer> last = new AtomicReference<>();
        AtomicReference<Instant> sent = new AtomicReference<>();
        Instant at = null;
        while (counted < REVERT_FAILED + 3 && at == null) {
            SimulatedVm vm = new SimulatedVm(vms.next(), 3_000);
            try {
                Awaitility.await("report from " + vm.address() + " counted by " + canary.id()).atMost(bound)
                        .pollInterval(Duration.ofMillis(100)).pollDelay(Duration.ZERO).until(() -> {
                            sent.set(Instant.now());
                            SimulatedVm.Answer a = vm.report(canary.ip(), canary.vmPort(), BUNDLE, version, "failed",
                                    "desk session fails to start");
                            last.set(a);
                            return a.status() == 202;
                        });
            } catch (ConditionTimeoutException e) {
                return new Reverted(null, counted, describe(last.get()), -1);
            }
            counted++;
            if (ApiJson.decode(last.get().body(), VmReport.Accepted.class) instanceof ApiJson.Decoded.Body<VmReport.Accepted> ok
                    && "reverted".equals(ok.value().state())) {
                at = sent.get();
            }
        }
        if (at == null) {
            return new Reverted(null, counted, describe(last.get()), -1);
        }
        try {
            Awaitility.await(canary.id() + " falls back to v" + GOOD).atMost(fallbackBound).pollInterval(Duration.ofMillis(10))
                    .pollDelay(Duration.ZERO).until(() -> {
                        ChaosCluster.Served s = cluster.fetch(canary, BUNDLE);
                        return s.status() == 200 && s.version() == GOOD && "fallback".equals(s.state());
                    });
            return new Reverted(at, counted, describe(last.get()), Duration.between(at, Instant.now()).toMillis());
        } catch (ConditionTimeoutException e) {
            return new Reverted(at, counted, describe(last.get()), -1);
        }
    }

    private static String describe(SimulatedVm.Answer a) {
        return a == null ? "no answer" : a.status() + " " + (a.error() != null ? a.error() : a.bodyText().strip());
    }

    /**
     * Source addresses for the simulated VMs, one per VM: 127.0.(base + k / 250).(1 + k % 250) for
     * the k-th, never 127.0.0.x where the nodes live (a node counts one report per VM address).
     */
    static final class VmAddresses {
        private final int base;
        private int next;

        VmAddresses(int base) {
            this.base = base;
        }

        String next() {
            int k = next++;
            if (base + k / 250 > 255) {
                throw new IllegalStateException("out of VM addresses after " + k);
            }
            return "127.0." + (base + k / 250) + "." + (1 + k % 250);
        }
    }

    private static boolean servesGood(ChaosCluster cluster, NodeProcess n) {
        ChaosCluster.Served s = cluster.fetch(n, BUNDLE);
        return s.status() == 200 && s.version() == GOOD;
    }

    /** {@code version}'s state as {@code n} sees the mesh (admin GET /v1/rollouts/desk), null when it does not list it. */
    private static String stateOn(ChaosCluster cluster, NodeProcess n, long version) {
        Optional<RolloutList> list = cluster.rollouts(n, BUNDLE);
        return list.flatMap(l -> l.rollouts().stream().filter(r -> r.name().equals(BUNDLE) && r.version() == version).findFirst())
                .map(RolloutList.Rollout::state).orElse(null);
    }

    /** Publishes through {@code first}, else through any other node, until one answers 201. */
    private void publish(ChaosCluster cluster, History history, NodeProcess first, byte[] archive, long version) {
        List<NodeProcess> order = new ArrayList<>(List.of(first));
        cluster.nodes().stream().filter(n -> n != first).forEach(order::add);
        Awaitility.await(BUNDLE + " v" + version + " published").atMost(bound).pollInterval(Duration.ofMillis(200))
                .pollDelay(Duration.ZERO).until(() -> {
                    for (NodeProcess n : order) {
                        int status = cluster.publish(n, BUNDLE, archive);
                        history.add(new History.Publish(Instant.now(), n.id(), BUNDLE, version, status));
                        if (status == 201) {
                            return true;
                        }
                    }
                    return false;
                });
    }

    private void awaitAll(ChaosCluster cluster, String what, java.util.function.Predicate<NodeProcess> each) {
        Awaitility.await(what).atMost(bound).pollInterval(Duration.ofMillis(50)).pollDelay(Duration.ZERO)
                .until(() -> cluster.nodes().stream().allMatch(each));
    }

    /** A fault's duration: the fetchers keep running meanwhile; this is not a wait for a condition. */
    private static void holdFor(Duration d) {
        Awaitility.await().pollDelay(d).atMost(d.plusSeconds(5)).until(() -> true);
    }

    private void save(History h) throws IOException {
        Path out = dir.resolve("history-" + seed + ".txt");
        List<String> lines = new ArrayList<>();
        h.rollouts().forEach(r -> lines.add(r.toString()));
        h.publishes().forEach(p -> lines.add(p.toString()));
        h.fetches().forEach(f -> lines.add(f.toString()));
        Files.createDirectories(dir);
        Files.write(out, lines);
    }
}
