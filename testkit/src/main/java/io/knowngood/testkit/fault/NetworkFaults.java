package io.knowngood.testkit.fault;

import io.knowngood.testkit.cluster.ChaosCluster;
import io.knowngood.testkit.process.NodeProcess;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;

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

    /** Creates this JVM's chain (empty) and jumps to it from INPUT. */
    public static void setUp() throws IOException {
        run("iptables", "-N", CHAIN);
        run("iptables", "-F", CHAIN);
        if (run("iptables", "-C", "INPUT", "-j", CHAIN) != 0) {
            check(run("iptables", "-I", "INPUT", "-j", CHAIN));
        }
    }

    /** Removes every jump to this JVM's chain, then the chain; other chains are left alone. */
    public static void tearDown() throws IOException {
        while (run("iptables", "-D", "INPUT", "-j", CHAIN) == 0) {
            // remove every jump we added
        }
        run("iptables", "-F", CHAIN);
        run("iptables", "-X", CHAIN);
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
