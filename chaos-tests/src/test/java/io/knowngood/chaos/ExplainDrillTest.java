package io.knowngood.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.cli.Environment;
import io.knowngood.cli.Kgctl;
import io.knowngood.testkit.Ci;
import io.knowngood.testkit.cluster.ChaosCluster;
import io.knowngood.testkit.fault.EnvFaults;
import io.knowngood.testkit.fault.NetworkFaults;
import io.knowngood.testkit.fault.StoreFaults;
import io.knowngood.testkit.process.NodeProcess;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The drill of docs/drill.md, "if absolutely everything is broken, how much of this still works?", on a
 * real 3-node TLS mesh of kgnode processes: {@code kgctl explain} (in process, against node n1's admin
 * endpoint) all well, with the peers killed, with the WAN cut, with the central server gone, with DNS
 * broken, with the disk full, and with all of that at once. Each time the VM still gets its verified
 * copy (exit 0, and a VM's own fetch verifies the bytes). The transcript goes to
 * {@code target/explain-drill.txt}, from which the doc's output was pasted. Needs root (iptables, tmpfs,
 * a mount namespace); skipped elsewhere, failed under CI=true.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ExplainDrillTest {

    static final int IP_BASE = 181;
    static final int PORT_BASE = 18420;
    static final String VM = "127.0." + IP_BASE + ".7";
    static final Duration VIEW_CHANGE = Duration.ofSeconds(60);
    /** Never picks at random: the faults below act on node n1, the one explained. */
    static final Random FIRST = new Random() {
        @Override
        public int nextInt(int bound) {
            return 0;
        }
    };

    static ChaosCluster c;
    static Path tokenFile;
    static final StringBuilder transcript = new StringBuilder();

    @BeforeAll
    static void start() throws Exception {
        Assumptions.assumeTrue(Ci.available(NodeProcess.jarMissing()), NodeProcess.jarMissing());
        Assumptions.assumeTrue(Ci.available(NetworkFaults.unavailableBecause()), NetworkFaults.unavailableBecause());
        Assumptions.assumeTrue(Ci.available(new StoreFaults.DiskFull().unavailableBecause()), new StoreFaults.DiskFull().unavailableBecause());
        Assumptions.assumeTrue(Ci.available(new EnvFaults.NoDns().unavailableBecause()), new EnvFaults.NoDns().unavailableBecause());
        NetworkFaults.setUp();
        c = new ChaosCluster(Files.createTempDirectory("kg-explain"), NodeProcess.jar(), 3, IP_BASE, PORT_BASE,
                List.of("--pool", "desks=127.0." + IP_BASE + ".0/24"));
        c.startAll();
        tokenFile = Files.writeString(c.dir().resolve("admin.token"), ChaosCluster.TOKEN + "\n");
        assertThat(c.publish(n(1), "desk", c.pack("desk", 1))).isEqualTo(201);
        for (NodeProcess node : c.nodes()) {
            Awaitility.await(node.id() + " serves desk").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                    .until(() -> c.fetch(node, "desk").verified());
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (c != null) {
            NetworkFaults.closeHealed(c);
            Path out = Path.of("target", "explain-drill.txt");
            Files.createDirectories(out.getParent());
            Files.writeString(out, transcript.toString(), StandardCharsets.UTF_8);
        }
    }

    static NodeProcess n(int i) {
        return c.node(i - 1);
    }

    record Run(int exitCode, String out) {
        String line(String kind, String name) {
            return out.lines().filter(l -> l.trim().split("\\s+").length > 2 && l.trim().split("\\s+")[1].equals(kind)
                    && l.trim().split("\\s+")[2].equals(name)).findFirst().orElse("");
        }
    }

    static Run explain(NodeProcess node) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cl = Kgctl.commandLine(new Environment(java.util.Map.of(), Clock.systemUTC(), Duration.ofSeconds(2), Duration.ofSeconds(10)));
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute("explain", "desk", "--vm", VM, "--node", node.adminUrl(), "--token-file", tokenFile.toString());
        return new Run(code, out + err.toString());
    }

    /** Waits until explain on {@code node} says what {@code until} wants, then writes it to the transcript under {@code title}. */
    static Run step(String title, NodeProcess node, java.util.function.Predicate<Run> until) {
        Run[] last = {null};
        try {
            Awaitility.await(title).atMost(VIEW_CHANGE).pollInterval(Duration.ofMillis(500)).until(() -> {
                last[0] = explain(node);
                return until.test(last[0]);
            });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError(title + ": explain never said what was awaited; last answer:\n" + (last[0] == null ? "none" : last[0].out()), e);
        }
        Run r = last[0];
        transcript.append("### ").append(title).append("\n\n$ kgctl explain desk --vm ").append(VM).append(" --node ").append(node.adminUrl())
                .append(" --token-file admin.token; echo \"exit $?\"\n").append(r.out()).append("exit ").append(r.exitCode()).append("\n\n");
        // what the VM itself gets: bytes fetched from the VM endpoint and verified against the publisher key here
        assertThat(c.fetch(node, "desk").verified()).as(title + ": the VM's own fetch verifies").isTrue();
        return r;
    }

    static boolean ok(Run r, String kind, String name) {
        return r.line(kind, name).trim().startsWith("ok");
    }

    /** The clock line for {@code peer} is ok and its measuring error is below 100 ms (a prompt round trip, not one at the join). */
    static boolean settled(Run r, String peer) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\+/- (\\d+) ms").matcher(r.line("clock", peer));
        return ok(r, "clock", peer) && m.find() && Integer.parseInt(m.group(1)) < 100;
    }

    static boolean down(Run r, String kind, String name) {
        return r.line(kind, name).trim().startsWith("DOWN");
    }

    static long peersDown(Run r) {
        return r.out().lines().map(l -> l.trim().split("\\s+")).filter(f -> f.length > 1 && f[0].equals("DOWN") && f[1].equals("peer")).count();
    }

    static boolean diskDown(Run r) {
        return r.out().lines().map(l -> l.trim().split("\\s+")).anyMatch(f -> f.length > 1 && f[0].equals("DOWN") && f[1].equals("disk"));
    }

    @Test
    @Order(1)
    void allWell() {
        Run r = step("All well", n(1), x -> ok(x, "peer", "n2") && ok(x, "peer", "n3") && settled(x, "n2") && settled(x, "n3"));
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("VM " + VM + " (pools: desks) gets desk version 1 (good): a VERIFIED copy")
                .doesNotContain("DOWN").doesNotContain("WARN");
        assertThat(r.line("certificate", "mesh")).startsWith("  ok").contains("CN=n1");
    }

    @Test
    @Order(2)
    void peersKilled() throws Exception {
        n(2).kill9();
        n(3).kill9();
        Run r = step("Peers killed (kill -9 of n2 and n3)", n(1), x -> down(x, "peer", "n2") && down(x, "peer", "n3"));
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("a VERIFIED copy").contains("in touch with the mesh: no");
        c.start(n(2));
        c.start(n(3));
        ChaosCluster.awaitUp(n(2));
        ChaosCluster.awaitUp(n(3));
        step("Peers back", n(1), x -> ok(x, "peer", "n2") && ok(x, "peer", "n3"));
    }

    @Test
    @Order(3)
    void wanCut() throws Exception {
        new NetworkFaults.IsolateOne().inject(c, FIRST);
        try {
            Run r = step("WAN cut (iptables DROP between n1 and the others)", n(1), x -> down(x, "peer", "n2") && down(x, "peer", "n3"));
            assertThat(r.exitCode()).isZero();
        } finally {
            NetworkFaults.healAll();
        }
        step("WAN healed", n(1), x -> ok(x, "peer", "n2") && ok(x, "peer", "n3"));
    }

    @Test
    @Order(4)
    void centralServerGone() {
        // the central server published to n1 once and is gone: n2 has no publish on record, and serves all the same
        Run r = step("Central server gone (n2 never took a publish itself)", n(2), x -> ok(x, "peer", "n1"));
        assertThat(r.exitCode()).isZero();
        assertThat(r.line("publish", "-")).startsWith("  WARN").contains("no publish recorded");
    }

    @Test
    @Order(5)
    void dnsBroken() throws Exception {
        EnvFaults.NoDns noDns = new EnvFaults.NoDns();
        noDns.inject(c, FIRST);
        try {
            Run r = step("DNS broken (n1 restarted with a resolv.conf pointing at a trap that answers nothing)", n(1),
                    x -> ok(x, "peer", "n2") && ok(x, "peer", "n3"));
            assertThat(r.exitCode()).isZero();
            assertThat(r.line("dns", "-")).startsWith("  ok").contains("not needed");
            assertThat(noDns.violations()).as("DNS queries n1 made").isEmpty();
            transcript.append("DNS queries the trap saw from n1: ").append(noDns.violations().size()).append("\n\n");
        } finally {
            noDns.heal(c);
            noDns.cleanup();
        }
    }

    @Test
    @Order(6)
    void diskFull() throws Exception {
        StoreFaults.DiskFull full = new StoreFaults.DiskFull();
        full.inject(c, FIRST);
        try {
            Run r = step("Disk full (n1's store on an 8 MiB tmpfs, filled)", n(1), ExplainDrillTest::diskDown);
            assertThat(r.exitCode()).isZero();
            assertThat(r.out()).contains("a VERIFIED copy");
            int status = c.publish(n(1), "desk", c.pack("desk", 2));
            transcript.append("A publish of desk@2 to n1 now: HTTP ").append(status).append("\n\n");
            assertThat(status).as("a publish to a full disk").isNotEqualTo(201);
        } finally {
            full.heal(c);
            full.cleanup();
        }
    }

    @Test
    @Order(7)
    void everythingAtOnce() throws Exception {
        StoreFaults.DiskFull full = new StoreFaults.DiskFull();
        EnvFaults.NoDns noDns = new EnvFaults.NoDns();
        full.inject(c, FIRST);
        noDns.inject(c, FIRST); // restarts n1 again: in a mount namespace, its store still on the full tmpfs
        try {
            n(2).kill9();
            n(3).kill9();
            new NetworkFaults.IsolateOne().inject(c, FIRST);
            Run r = step("Everything at once: peers killed, WAN cut, no central server, no DNS, disk full", n(1),
                    x -> peersDown(x) == 2 && diskDown(x)); // n1 restarted twice: it names its peers by their --peers addresses
            assertThat(r.exitCode()).isZero();
            assertThat(noDns.violations()).isEmpty();
        } finally {
            NetworkFaults.healAll();
            noDns.heal(c);
            noDns.cleanup();
            full.heal(c);
            full.cleanup();
        }
    }

    @Test
    @Order(8)
    void aHostWhoseCertificateAnotherCaIssued() throws Exception {
        // a slip in deployment: the host's certificate was issued by another mesh CA. It stays alone; both
        // ends say why, in their logs, and its explain names the cause beside each peer
        Path tls = c.dir().resolve("stranger-tls");
        io.knowngood.crypto.meshca.MeshCa.generate(Clock.systemUTC()).issue("stranger").writeTo(tls);
        NodeProcess stranger = NodeProcess.builder("stranger", c.dir()).jar(NodeProcess.jar()).ip(c.rogueIp())
                .clusterPort(c.rogueClusterPort()).vmPort(PORT_BASE + 95).adminPort(PORT_BASE + 96).adminToken(ChaosCluster.TOKEN)
                .args("--cluster-name", c.clusterName(), "--trust-key", c.dir().resolve("publisher.pub").toString(),
                        "--cluster-tls-dir", tls.toString())
                .build();
        stranger.peers(List.of(n(1).clusterAddress()));
        stranger.start();
        try {
            ChaosCluster.awaitUp(stranger);
            Run[] last = {null};
            Awaitility.await("the stranger's explain names the refused certificate").atMost(VIEW_CHANGE).pollInterval(Duration.ofMillis(500))
                    .until(() -> {
                        last[0] = explain(stranger);
                        return last[0].line("peer", n(1).clusterAddress()).contains("mesh TLS handshake with");
                    });
            Run r = last[0];
            transcript.append("### A host whose certificate another mesh CA issued (its explain)\n\n$ kgctl explain desk --vm ").append(VM)
                    .append(" --node ").append(stranger.adminUrl()).append(" --token-file admin.token; echo \"exit $?\"\n")
                    .append(r.out()).append("exit ").append(r.exitCode()).append("\n\n");
            assertThat(r.line("peer", n(1).clusterAddress())).startsWith("  DOWN").contains("(certificate): its certificate CN=n1, issued by ")
                    .contains("is not from this mesh's CA");
            Awaitility.await("n1's log names the stranger's failed handshake").atMost(Duration.ofSeconds(20))
                    .until(() -> Files.readString(n(1).log(), StandardCharsets.UTF_8)
                            .contains("mesh TLS handshake with " + c.rogueIp() + " failed (certificate)"));
            Run onN1 = explain(n(1)); // the stranger is no peer of n1's: a row of its own
            assertThat(onN1.line("tls", c.rogueIp())).startsWith("  WARN").contains("(certificate): it refused this node's certificate");
            transcript.append("### The same, on n1\n\n").append(onN1.line("tls", c.rogueIp())).append("\n\n");
        } finally {
            stranger.stop();
        }
    }

    @Test
    @Order(9)
    void aSecondHostGivenN1sConfiguration() throws Exception {
        // a slip in deployment: a host set up from a copy of n1's configuration (its node id and its mesh
        // certificate). It joined silently before; now the later of the two leaves the mesh and both say why
        NodeProcess twin = NodeProcess.builder("n1", c.dir()).dataDir(c.dir().resolve("twin-data")).log(c.dir().resolve("twin.log"))
                .jar(NodeProcess.jar()).ip(c.rogueIp()).clusterPort(c.rogueClusterPort()).vmPort(PORT_BASE + 97).adminPort(PORT_BASE + 98)
                .adminToken(ChaosCluster.TOKEN)
                .args("--cluster-name", c.clusterName(), "--trust-key", c.dir().resolve("publisher.pub").toString(),
                        "--cluster-tls-dir", c.dir().resolve("n1-tls").toString(), "--pool", "desks=127.0." + IP_BASE + ".0/24")
                .build();
        twin.peers(c.nodes().stream().map(NodeProcess::clusterAddress).toList());
        twin.start();
        String twinAddress = c.rogueIp() + ":" + c.rogueClusterPort();
        try {
            ChaosCluster.awaitUp(twin);
            Run r = step("A second host started with n1's configuration (its explain)", twin,
                    x -> x.line("id", "n1").trim().startsWith("DOWN"));
            assertThat(r.line("id", "n1")).contains("this node left the mesh")
                    .contains("the member at " + n(1).clusterAddress() + " has the same node id and joined first")
                    .contains("until it is restarted with an id of its own");
            assertThat(r.exitCode()).as("it serves what it took in before it left").isZero();
            assertThat(r.line("peer", "n1")).as("no peer row under its own id").isEmpty();
            assertThat(r.line("peer", n(1).clusterAddress())).startsWith("  DOWN")
                    .contains("a --peers address, and this node has left the mesh (the id row says why)");
            assertThat(Files.readString(twin.log(), StandardCharsets.UTF_8)).contains("ERROR")
                    .contains("leaving the mesh: the member at " + n(1).clusterAddress() + " has this node's id (n1) and joined first");

            StringWriter out = new StringWriter();
            var cl = Kgctl.commandLine(new Environment(java.util.Map.of(), Clock.systemUTC(), Duration.ofSeconds(2), Duration.ofSeconds(10)));
            cl.setOut(new PrintWriter(out));
            assertThat(cl.execute("status", "--node", twin.adminUrl(), "--token-file", tokenFile.toString())).isZero();
            assertThat(out.toString()).contains("state DUPLICATE_ID").contains("LEFT THE MESH");
            transcript.append("### The same host's status\n\n").append(out).append("\n");

            // n2 and n3 were killed in everythingAtOnce: n1 is the mesh here
            Run onN1 = step("The same, on n1: the second host warned of, and out of its view", n(1),
                    x -> x.line("id", "n1").trim().startsWith("WARN") && !x.out().contains("in view at " + twinAddress));
            assertThat(onN1.line("id", "n1")).contains("a member at " + twinAddress + " joined with this node's id")
                    .contains("as the later one it leaves the mesh");
            assertThat(Files.readString(n(1).log(), StandardCharsets.UTF_8))
                    .contains("a member at " + twinAddress + " joined the mesh with this node's id (n1)");
        } finally {
            twin.stop();
        }
    }
}
