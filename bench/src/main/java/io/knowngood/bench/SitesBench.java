package io.knowngood.bench;

import io.knowngood.testkit.cluster.ChaosCluster;
import io.knowngood.testkit.fault.NetworkFaults;
import io.knowngood.testkit.measure.Percentiles;
import io.knowngood.testkit.process.NodeProcess;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * Two sites (east, west) of two real kgnode processes each, TLS mesh and bridge, shipped {@code lan}
 * timers, bridged by cross-site replication. <b>Crossing</b>: each round publishes the next version of
 * one bundle to a node of one site (alternating sites) and measures, polling every 5 ms, until the other
 * node of the same site serves it (the in-site reference) and until both nodes of the other site do.
 * <b>WAN heal</b>: each cycle cuts the WAN (iptables, every link between the sites, both ways), publishes
 * a version in each site (the higher one in a random site), holds the cut, heals, and measures until every
 * node of both sites serves the higher version. Goal: heal p99 <= 10 s. Needs root (iptables).
 * Nodes on 127.0.0.201-204 (or {@code -Dchaos.ipBase=N}), cluster ports 18800+, bridges 18850+, VM 18900+,
 * admin 19000+.
 * Run: {@code bench/run.sh SitesBench [-Dbench.rounds=20] [-Dbench.cycles=10] [-Dbench.sites.holdMs=5000]}
 */
public final class SitesBench {
    private static final int ROUNDS = Integer.getInteger("bench.rounds", 20);
    private static final int CYCLES = Integer.getInteger("bench.cycles", 10);
    private static final Duration HOLD = Duration.ofMillis(Long.getLong("bench.sites.holdMs", 5_000));
    private static final Duration BOUND = Duration.ofSeconds(60);
    private static final String NAME = "desk";

    private SitesBench() {
    }

    public static void main(String[] args) {
        Results.main("SitesBench", args, SitesBench::measure);
    }

    private static void measure(Results results) throws Exception {
        String why = NetworkFaults.unavailableBecause();
        if (why != null) {
            throw new IllegalStateException(why);
        }
        int ipBase = ChaosCluster.ipBaseProperty(201);
        results.param("rounds", ROUNDS).param("cycles", CYCLES).param("holdMs", HOLD.toMillis()).param("ipBase", ipBase)
                .param("nodeJvmFlags", System.getProperty("kgnode.jvm", NodeProcess.DEFAULT_JVM));
        Percentiles inSite = new Percentiles();
        Percentiles crossFirst = new Percentiles();
        Percentiles crossBoth = new Percentiles();
        Percentiles heal = new Percentiles();
        List<String> lines = new ArrayList<>();
        int missed = 0;
        Random random = new Random(20261201L);
        NetworkFaults.setUp();
        try (ChaosCluster c = ChaosCluster.sites(Results.workDir("sites"), NodeProcess.jar(), List.of("east", "west"), 2, ipBase, 18800)) {
            c.startAll();
            List<NodeProcess> east = c.site("east");
            List<NodeProcess> west = c.site("west");
            long v = 1;
            publish(c, east.get(0), v);
            awaitAll(c, c.nodes(), v, BOUND);
            for (int i = 0; i < ROUNDS; i++) {
                v++;
                boolean fromEast = i % 2 == 0;
                List<NodeProcess> home = fromEast ? east : west;
                List<NodeProcess> away = fromEast ? west : east;
                NodeProcess via = home.get(i / 2 % 2);
                NodeProcess mate = home.get(1 - i / 2 % 2);
                long want = v;
                long t0 = System.nanoTime();
                // the publish answers once its own site holds it: poll meanwhile, not after
                java.util.concurrent.CompletableFuture<Void> published = java.util.concurrent.CompletableFuture.runAsync(
                        () -> publish(c, via, want));
                double[] at = {-1, -1, -1};
                Awaitility.await("v" + v + " everywhere").atMost(BOUND).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(5))
                        .until(() -> {
                            double now = (System.nanoTime() - t0) / 1e6;
                            if (at[0] < 0 && serves(c, mate, want)) {
                                at[0] = now;
                            }
                            boolean a0 = serves(c, away.get(0), want);
                            boolean a1 = serves(c, away.get(1), want);
                            if (at[1] < 0 && (a0 || a1)) {
                                at[1] = now;
                            }
                            if (at[2] < 0 && a0 && a1) {
                                at[2] = now;
                            }
                            return at[0] >= 0 && at[2] >= 0;
                        });
                published.join();
                inSite.add(at[0]);
                crossFirst.add(at[1]);
                crossBoth.add(at[2]);
                lines.add(String.format(Locale.ROOT, "round %d: v%d published at %s (%s): in site %.0f ms, other site first %.0f ms, both %.0f ms",
                        i + 1, v, via.id(), c.siteOf(via), at[0], at[1], at[2]));
            }
            NetworkFaults.WanDrop cut = NetworkFaults.WanDrop.cut("east", "west");
            for (int i = 0; i < CYCLES; i++) {
                cut.inject(c, random);
                boolean eastHigher = random.nextBoolean();
                long low = ++v;
                long high = ++v;
                publish(c, (eastHigher ? west : east).get(random.nextInt(2)), low);
                publish(c, (eastHigher ? east : west).get(random.nextInt(2)), high);
                awaitAll(c, eastHigher ? east : west, high, BOUND);
                awaitAll(c, eastHigher ? west : east, low, BOUND);
                Thread.sleep(HOLD.toMillis()); // the cut lasts: failure detection on the bridge notices it
                long t0 = System.nanoTime();
                cut.heal(c);
                try {
                    awaitAll(c, c.nodes(), high, BOUND);
                    double ms = (System.nanoTime() - t0) / 1e6;
                    heal.add(ms);
                    lines.add(String.format(Locale.ROOT, "cycle %d: v%d in %s, v%d in the other: every node on v%d %.0f ms after the heal",
                            i + 1, high, eastHigher ? "east" : "west", low, high, ms));
                } catch (ConditionTimeoutException e) {
                    missed++;
                    lines.add("cycle " + (i + 1) + ": not converged within " + BOUND);
                }
            }
        } finally {
            NetworkFaults.healAll();
            NetworkFaults.tearDown();
        }
        Results.Table t = results.table("Two sites of 2 kgnode processes each (TLS, lan timers), bridged by cross-site replication; ms",
                "measure", "count", "p50", "p99", "max", "missed");
        t.row("publish -> the other node of the same site serves it (reference)", inSite.count(), inSite.pct(50), inSite.pct(99),
                inSite.pct(100), 0);
        t.row("publish -> first node of the other site serves it", crossFirst.count(), crossFirst.pct(50), crossFirst.pct(99),
                crossFirst.pct(100), 0);
        t.row("publish -> both nodes of the other site serve it", crossBoth.count(), crossBoth.pct(50), crossBoth.pct(99),
                crossBoth.pct(100), 0);
        t.row("WAN heal -> every node of both sites serves the highest version", heal.count(), heal.pct(50), heal.pct(99),
                heal.pct(100), missed);
        lines.forEach(results::note);
    }

    private static void publish(ChaosCluster c, NodeProcess n, long v) {
        int status = c.publish(n, NAME, c.pack(NAME, v));
        if (status != 201) {
            throw new IllegalStateException("publish of v" + v + " to " + n.id() + " answered " + status);
        }
    }

    private static boolean serves(ChaosCluster c, NodeProcess n, long v) {
        ChaosCluster.Served s = c.fetch(n, NAME);
        return s.status() == 200 && s.verified() && s.version() == v;
    }

    private static void awaitAll(ChaosCluster c, List<NodeProcess> nodes, long v, Duration within) {
        Awaitility.await("v" + v + " on " + nodes).atMost(within).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(5))
                .until(() -> nodes.stream().allMatch(n -> serves(c, n, v)));
    }
}
