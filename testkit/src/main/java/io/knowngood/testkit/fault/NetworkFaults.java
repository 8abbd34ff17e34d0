package io.knowngood.testkit.fault;

import io.knowngood.testkit.cluster.ChaosCluster;
import io.knowngood.testkit.process.NodeProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * Partitions and packet loss between loopback addresses with iptables rules in a chain of our own
 * ({@code KGCHAOS-<pid>}), so healing is one flush and cleanup never touches anyone else's rules, not
 * even another chaos run's on the same machine. Needs root. Call {@link #setUp()} before the first
 * fault and {@link #tearDown()} after the last.
 */
public final class NetworkFaults {
    /** One chain per JVM: two runs on one machine must not flush each other's rules. */
    private static final String CHAIN = "KGCHAOS-" + ProcessHandle.current().pid();

    private NetworkFaults() {
    }

    /** The chain this JVM's rules go into. */
    public static String chain() {
        return CHAIN;
    }

    /** Null when iptables can be used here, else why not. */
    public static String unavailableBecause() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return "network faults need root (iptables); run as root, as CI does";
        }
        try {
            if (run("iptables", "-L", "INPUT", "-n") != 0) {
                return "iptables is not usable here";
            }
        } catch (IOException e) {
            return "iptables is not installed (apt-get install -y iptables)";
        }
        return null;
    }

    /**
     * Creates this JVM's chain (empty) and jumps to it from INPUT, after removing the chains of runs
     * whose JVM is gone (a run killed before its teardown leaves its drops in place: seen on
     * 2026-12-02, a stopped soak's chain kept isolating 127.0.0.163 for the next run on those addresses).
     */
    public static void setUp() throws IOException {
        removeChainsOfDeadRuns();
        run("iptables", "-N", CHAIN);
        run("iptables", "-F", CHAIN);
        if (run("iptables", "-C", "INPUT", "-j", CHAIN) != 0) {
            check(run("iptables", "-I", "INPUT", "-j", CHAIN));
        }
    }

    /**
     * A process test's teardown: every rule removed (so the nodes can say goodbye), the cluster stopped,
     * then the chain removed. Nothing when {@code c} is null (its setup did not get that far).
     */
    public static void closeHealed(ChaosCluster c) throws IOException, InterruptedException {
        if (c == null) {
            return;
        }
        healAll();
        c.close();
        tearDown();
    }

    /** Removes every jump to this JVM's chain, then the chain; other chains are left alone. */
    public static void tearDown() throws IOException {
        removeChain(CHAIN);
    }

    private static void removeChain(String chain) throws IOException {
        while (run("iptables", "-D", "INPUT", "-j", chain) == 0) {
            // remove every jump to it
        }
        run("iptables", "-F", chain);
        run("iptables", "-X", chain);
    }

    private static void removeChainsOfDeadRuns() throws IOException {
        Process p = new ProcessBuilder("iptables", "-w", "-S").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("(?m)^-N (KGCHAOS-(\\d+))$").matcher(out);
        while (m.find()) {
            long pid = Long.parseLong(m.group(2));
            if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                continue;
            }
            System.out.println("network faults: removing " + m.group(1) + ", left by a run whose JVM is gone");
            removeChain(m.group(1));
        }
    }

    /** Drops every packet from {@code fromIp} to {@code toIp}. */
    public static void drop(String fromIp, String toIp) throws IOException {
        check(run("iptables", "-A", CHAIN, "-s", fromIp, "-d", toIp, "-j", "DROP"));
    }

    /** Drops each packet from {@code fromIp} to {@code toIp} with the given probability (iptables' statistic match). */
    public static void dropSome(String fromIp, String toIp, double probability) throws IOException {
        check(run("iptables", "-A", CHAIN, "-s", fromIp, "-d", toIp, "-m", "statistic", "--mode", "random",
                "--probability", String.format(Locale.ROOT, "%.4f", probability), "-j", "DROP"));
    }

    /** True when this JVM's chain holds a rule dropping {@code fromIp} to {@code toIp}. */
    public static boolean dropping(String fromIp, String toIp) throws IOException {
        return run("iptables", "-C", CHAIN, "-s", fromIp, "-d", toIp, "-j", "DROP") == 0;
    }

    /**
     * Counts, without dropping, the packets from {@code fromIp} to {@code toIp} (a rule that only
     * returns); {@link #countedBytes()} sums what such rules saw. Removed by {@link #healAll()}.
     */
    public static void count(String fromIp, String toIp) throws IOException {
        check(run("iptables", "-A", CHAIN, "-s", fromIp, "-d", toIp, "-j", "RETURN"));
    }

    /** Bytes (IP packets, headers included) seen by this JVM's counting rules ({@link #count}) since they were added. */
    public static long countedBytes() throws IOException {
        Process p = new ProcessBuilder("iptables", "-w", "-L", CHAIN, "-n", "-v", "-x").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException("iptables -L " + CHAIN + " failed: " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        return returnedBytes(out);
    }

    /** The bytes column summed over the RETURN rules of an {@code iptables -L CHAIN -n -v -x} listing. */
    static long returnedBytes(String listing) {
        long bytes = 0;
        // rule lines: pkts bytes target prot opt in out source destination
        for (String line : listing.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 3 && f[2].equals("RETURN") && f[1].matches("\\d+")) {
                bytes += Long.parseLong(f[1]);
            }
        }
        return bytes;
    }

    /** Removes every rule of this JVM's chain. */
    public static void healAll() throws IOException {
        check(run("iptables", "-F", CHAIN));
    }

    private static void check(int rc) throws IOException {
        if (rc != 0) {
            throw new IOException("iptables exited with " + rc);
        }
    }

    private static int run(String... args) throws IOException {
        // -w: wait for the xtables lock instead of failing when another iptables runs
        List<String> cmd = new ArrayList<>(List.of(args));
        cmd.add(1, "-w");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return -1;
            }
            return p.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** A fault made of rules in this JVM's chain: needs {@link #setUp()}, healed by one flush. */
    public abstract static class IptablesFault implements Fault {
        @Override
        public String unavailableBecause() {
            return NetworkFaults.unavailableBecause();
        }

        @Override
        public void heal(ChaosCluster c) throws IOException {
            healAll();
        }
    }

    /** Cuts one node off from all others, both ways; it keeps serving its VMs. */
    public static final class IsolateOne extends IptablesFault {
        public String name() {
            return "isolate-one";
        }

        public List<NodeProcess> inject(ChaosCluster c, Random random) throws IOException {
            NodeProcess victim = c.node(random.nextInt(c.nodes().size()));
            for (NodeProcess o : c.nodes()) {
                if (o != victim) {
                    drop(victim.ip(), o.ip());
                    drop(o.ip(), victim.ip());
                }
            }
            return List.of();
        }
    }

    /** Splits the mesh into two groups (a minority and the rest). */
    public static final class SplitInTwo extends IptablesFault {
        public String name() {
            return "split-in-two";
        }

        public List<NodeProcess> inject(ChaosCluster c, Random random) throws IOException {
            List<NodeProcess> shuffled = new ArrayList<>(c.nodes());
            Collections.shuffle(shuffled, random);
            int cut = Math.max(1, shuffled.size() / 2);
            List<NodeProcess> a = shuffled.subList(0, cut);
            List<NodeProcess> b = shuffled.subList(cut, shuffled.size());
            for (NodeProcess x : a) {
                for (NodeProcess y : b) {
                    drop(x.ip(), y.ip());
                    drop(y.ip(), x.ip());
                }
            }
            return List.of();
        }
    }

    /**
     * Packets between two sites dropped: from every node of site {@code from} to every node of site
     * {@code to}, and back too for a cut; inside each site nothing changes.
     */
    public static final class WanDrop extends IptablesFault {
        private final String name;
        private final String from;
        private final String to;
        private final boolean bothWays;

        private WanDrop(String name, String from, String to, boolean bothWays) {
            this.name = name;
            this.from = from;
            this.to = to;
            this.bothWays = bothWays;
        }

        /** The WAN between sites {@code a} and {@code b} is cut both ways. */
        public static WanDrop cut(String a, String b) {
            return new WanDrop("wan-cut", a, b, true);
        }

        /** The WAN loses one direction only: packets from site {@code from} to site {@code to} are dropped, the others arrive. */
        public static WanDrop oneWay(String from, String to) {
            return new WanDrop("wan-one-way", from, to, false);
        }

        public String name() {
            return name;
        }

        public List<NodeProcess> inject(ChaosCluster c, Random random) throws IOException {
            for (NodeProcess x : c.site(from)) {
                for (NodeProcess y : c.site(to)) {
                    drop(x.ip(), y.ip());
                    if (bothWays) {
                        drop(y.ip(), x.ip());
                    }
                }
            }
            return List.of();
        }
    }

    /** One direction only: A's packets to B are dropped, B's to A arrive. */
    public static final class OneWayDrop extends IptablesFault {
        public String name() {
            return "one-way-drop";
        }

        public List<NodeProcess> inject(ChaosCluster c, Random random) throws IOException {
            int size = c.nodes().size();
            int a = random.nextInt(size);
            int b = (a + 1 + random.nextInt(size - 1)) % size;
            drop(c.node(a).ip(), c.node(b).ip());
            return List.of();
        }
    }

    /** A bridge: two nodes cannot reach each other, but both still reach the third. */
    public static final class Bridge extends IptablesFault {
        public String name() {
            return "bridge";
        }

        public List<NodeProcess> inject(ChaosCluster c, Random random) throws IOException {
            List<NodeProcess> shuffled = new ArrayList<>(c.nodes());
            Collections.shuffle(shuffled, random);
            drop(shuffled.get(0).ip(), shuffled.get(1).ip());
            drop(shuffled.get(1).ip(), shuffled.get(0).ip());
            return List.of();
        }
    }

    /**
     * The bridge as a relay check: A and B cut from each other both ways, C still reaches both. Right
     * after the cut it publishes the next version of its own bundle ({@value #BUNDLE}, so the
     * workload's version numbers are untouched) on A and checks that B serves it before the heal, at
     * most {@code deadline} after A answered: the update must travel through C while the cut lasts.
     * The check runs beside the workload while the fault is held; {@link #heal} waits for its outcome
     * before it removes the cut. A miss is a {@link #violations() violation}; {@link #observed()} says
     * how long the relay took.
     */
    public static final class BridgeRelay extends IptablesFault {
        public static final String BUNDLE = "relay";
        /**
         * How long the publish call may take: the node answers after its publish timeout (10 s by
         * default) at the latest, when B is still in A's view and cannot confirm; 5 s more for the answer.
         */
        private static final Duration PUBLISH_TIMEOUT = Duration.ofSeconds(15);
        private final Duration deadline;
        private final List<String> violations = java.util.Collections.synchronizedList(new ArrayList<>());
        private long version;
        private CompletableFuture<String> check;
        private volatile String observed = "";

        public BridgeRelay() {
            this(Duration.ofSeconds(10));
        }

        public BridgeRelay(Duration deadline) {
            this.deadline = deadline;
        }

        public String name() {
            return "bridge-relay";
        }

        public List<NodeProcess> inject(ChaosCluster c, Random random) throws IOException {
            List<NodeProcess> shuffled = new ArrayList<>(c.nodes());
            Collections.shuffle(shuffled, random);
            NodeProcess a = shuffled.get(0);
            NodeProcess b = shuffled.get(1);
            NodeProcess via = shuffled.get(2);
            drop(a.ip(), b.ip());
            drop(b.ip(), a.ip());
            long v = ++version;
            check = CompletableFuture.supplyAsync(() -> relay(c, a, b, via, v));
            return List.of();
        }

        /**
         * Publishes v on A and, from the same moment, waits until B serves it; returns what happened,
         * adding a violation on a miss. The relay time is counted from the start of the publish, not
         * from its answer: A's publish waits (up to the node's publish timeout, 10 s) for every member
         * in A's view to hold it, and B, still in A's view while failure detection has not excluded
         * it, cannot tell A, so the answer may come long after B serves it.
         */
        private String relay(ChaosCluster c, NodeProcess a, NodeProcess b, NodeProcess via, long v) {
            String route = a.id() + " -x- " + b.id() + " via " + via.id();
            long t0 = System.nanoTime();
            long[] acked = {0};
            CompletableFuture<Integer> published = CompletableFuture.supplyAsync(() -> {
                try {
                    return a.publish(BUNDLE, c.pack(BUNDLE, v), PUBLISH_TIMEOUT);
                } catch (IOException e) {
                    return -1;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return -1;
                } finally {
                    acked[0] = System.nanoTime();
                }
            });
            String served;
            long ms = -1;
            try {
                Awaitility.await(b.id() + " serves " + BUNDLE + " v" + v).atMost(deadline).pollDelay(Duration.ZERO)
                        .pollInterval(Duration.ofMillis(50)).until(() -> {
                            ChaosCluster.Served s = c.fetch(b, BUNDLE);
                            return s.status() == 200 && s.verified() && s.version() >= v;
                        });
                ms = (System.nanoTime() - t0) / 1_000_000;
                served = String.format(Locale.ROOT, "served by %s %d ms after the publish began", b.id(), ms);
            } catch (ConditionTimeoutException e) {
                served = String.format(Locale.ROOT, "not served by %s within %d s, before the heal (it serves v%d)",
                        b.id(), deadline.toSeconds(), c.fetch(b, BUNDLE).version());
            }
            int status;
            try {
                status = published.get(PUBLISH_TIMEOUT.toMillis() + 1000, TimeUnit.MILLISECONDS);
            } catch (TimeoutException | java.util.concurrent.ExecutionException e) {
                status = -1;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return route + ": interrupted";
            }
            long answeredMs = acked[0] == 0 ? -1 : (acked[0] - t0) / 1_000_000;
            String what = String.format(Locale.ROOT, "%s: v%d published on %s (%d in %d ms), %s", route, v, a.id(), status,
                    answeredMs, served);
            if (status != 201) {
                violations.add(route + ": publish of " + BUNDLE + " v" + v + " on " + a.id() + " answered " + status
                        + " after " + answeredMs + " ms");
            }
            if (ms < 0) {
                violations.add(what);
            }
            return what;
        }

        /** Waits for the relay check (it is bounded by the publish timeout and the deadline), then removes the cut. */
        @Override
        public void heal(ChaosCluster c) throws IOException {
            if (check != null) {
                try {
                    observed = check.get(PUBLISH_TIMEOUT.plus(deadline).plusSeconds(5).toMillis(), TimeUnit.MILLISECONDS);
                } catch (TimeoutException | java.util.concurrent.ExecutionException e) {
                    violations.add("relay check did not finish: " + e);
                    observed = "relay check did not finish";
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    check = null;
                }
            }
            healAll();
        }

        @Override
        public String observed() {
            return observed;
        }

        @Override
        public List<String> violations() {
            return List.copyOf(violations);
        }
    }

    /**
     * Random packet loss (10 % each way) on the traffic between one node and the others, with
     * iptables' statistic match. It replaces a netem delay-and-loss fault: the kernels this project
     * runs on have neither the netem nor the prio qdisc, so delay cannot be made here, only loss.
     */
    public static final class PacketLoss extends IptablesFault {
        static final double PROBABILITY = 0.1;

        public String name() {
            return "packet-loss";
        }

        @Override
        public String unavailableBecause() {
            String why = NetworkFaults.unavailableBecause();
            if (why != null) {
                return why;
            }
            // -C on a rule that does not exist exits 1; an unknown match (no xt_statistic) exits 2
            try {
                int rc = run("iptables", "-C", "INPUT", "-s", "127.0.0.254", "-d", "127.0.0.254", "-m", "statistic",
                        "--mode", "random", "--probability", "0.1", "-j", "DROP");
                return rc == 0 || rc == 1 ? null : "packet-loss needs iptables' statistic match (xt_statistic); iptables exited with " + rc;
            } catch (IOException e) {
                return "iptables is not installed (apt-get install -y iptables)";
            }
        }

        public List<NodeProcess> inject(ChaosCluster c, Random random) throws IOException {
            NodeProcess victim = c.node(random.nextInt(c.nodes().size()));
            for (NodeProcess o : c.nodes()) {
                if (o != victim) {
                    dropSome(victim.ip(), o.ip(), PROBABILITY);
                    dropSome(o.ip(), victim.ip(), PROBABILITY);
                }
            }
            return List.of();
        }
    }
}
