package io.knowngood.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.api.ApiJson;
import io.knowngood.api.RolloutList;
import io.knowngood.crypto.bundle.BundlePacker;
import io.knowngood.crypto.bundle.Ed25519Keys;
import io.knowngood.crypto.bundle.RolloutPolicy;
import io.knowngood.crypto.rollout.ControlCodec;
import io.knowngood.crypto.rollout.RolloutControl;
import io.knowngood.replication.MeshRecords;
import io.knowngood.replication.RogueMember;
import io.knowngood.testkit.Ci;
import io.knowngood.testkit.cluster.ChaosCluster;
import io.knowngood.testkit.fault.NetworkFaults;
import io.knowngood.testkit.process.MetricsPage;
import io.knowngood.testkit.process.NodeProcess;
import io.knowngood.testkit.vm.SimulatedVm;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Health-gated rollout with three real kgnode processes on a TLS mesh: the canary alone serves a new
 * version, ok reports promote it wave by wave, failure reports revert it (the canary falls back within
 * 5 s, also when it is cut off from the mesh), signed abort and promote act everywhere, an expired
 * version is still served and marked, and bad reports change nothing. Each test uses its own bundle
 * name; VMs are loopback source addresses 127.0.(ipBase).x, distinct per test.
 */
class RolloutProcessTest {

    static final int IP_BASE = ChaosCluster.ipBaseProperty(71);
    static ChaosCluster c;
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @BeforeAll
    static void start() throws Exception {
        Assumptions.assumeTrue(Ci.available(NodeProcess.jarMissing()), NodeProcess.jarMissing());
        Assumptions.assumeTrue(Ci.available(NetworkFaults.unavailableBecause()), NetworkFaults.unavailableBecause());
        NetworkFaults.setUp();
        c = new ChaosCluster(Files.createTempDirectory("kg-rollout"), NodeProcess.jar(), 3, IP_BASE, 17850);
        c.startAll();
    }

    @AfterAll
    static void stop() throws Exception {
        NetworkFaults.closeHealed(c);
    }

    static NodeProcess n(int i) {
        return c.node(i - 1);
    }

    static SimulatedVm vm(int test, int i) {
        return new SimulatedVm("127.0." + (IP_BASE + test) + "." + i, 3_000);
    }

    static byte[] pack(String name, long version, RolloutPolicy policy, Instant expires) {
        TreeMap<String, byte[]> files = new TreeMap<>();
        files.put("config.ini", ("[desk]\nversion=" + version + "\n").getBytes(StandardCharsets.UTF_8));
        return BundlePacker.pack(name, version, files, new BundlePacker.PackOptions(Map.of(), Optional.ofNullable(expires),
                Optional.ofNullable(policy)), c.publisher().getPrivate(), Clock.systemUTC());
    }

    static RolloutPolicy canary(NodeProcess host, int ok, long afterS, int failed) {
        return new RolloutPolicy(List.of(new RolloutPolicy.Hosts(List.of(host.id()))), ok, afterS, failed);
    }

    static SimulatedVm.Answer fetch(SimulatedVm vm, NodeProcess node, String name) {
        return vm.get(node.ip(), node.vmPort(), "/v1/bundles/" + name);
    }

    static void publishAndAwaitHeld(String name, long version, byte[] archive, NodeProcess via) {
        assertThat(c.publish(via, name, archive)).isEqualTo(201);
        for (NodeProcess node : c.nodes()) {
            Awaitility.await(node.id() + " holds " + name + "@" + version).atMost(Duration.ofSeconds(20))
                    .pollInterval(Duration.ofMillis(100))
                    .until(() -> String.valueOf(version).equals(fetch(vm(0, 1), node, name).header("X-Knowngood-Latest")));
        }
    }

    static Optional<RolloutList.Rollout> rollout(NodeProcess node, String name, long version) {
        try {
            HttpResponse<byte[]> r = HTTP.send(HttpRequest.newBuilder(URI.create(node.adminUrl() + "/v1/rollouts/" + name))
                    .header("Authorization", "Bearer " + ChaosCluster.TOKEN).timeout(Duration.ofSeconds(3)).GET().build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            if (r.statusCode() != 200 || !(ApiJson.decode(r.body(), RolloutList.class) instanceof ApiJson.Decoded.Body<RolloutList> b)) {
                return Optional.empty();
            }
            return b.value().rollouts().stream().filter(x -> x.version() == version).findFirst();
        } catch (Exception e) {
            return Optional.empty();
        }
    }

    static void awaitStateEverywhere(String name, long version, String state) {
        for (NodeProcess node : c.nodes()) {
            Awaitility.await(node.id() + ": " + name + "@" + version + " " + state).atMost(Duration.ofSeconds(20))
                    .pollInterval(Duration.ofMillis(100))
                    .until(() -> rollout(node, name, version).map(r -> r.state().equals(state)).orElse(false));
        }
    }

    static int control(NodeProcess node, String name, long version, RolloutControl.Action action) throws Exception {
        byte[] wire = ControlCodec.sign(new RolloutControl(name, version, action, Instant.now()), c.publisher().getPrivate());
        return HTTP.send(HttpRequest.newBuilder(URI.create(node.adminUrl() + "/v1/rollouts/" + name + "/" + version + "/controls"))
                .header("Authorization", "Bearer " + ChaosCluster.TOKEN).timeout(Duration.ofSeconds(5))
                .PUT(HttpRequest.BodyPublishers.ofByteArray(wire)).build(), HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    /** Waits until {@code node} serves {@code version} of {@code name} to a VM; returns the milliseconds it took. */
    static long awaitServes(NodeProcess node, String name, long version, Duration within) {
        long t0 = System.nanoTime();
        Awaitility.await(node.id() + " serves " + name + "@" + version).atMost(within).pollInterval(Duration.ofMillis(20))
                .until(() -> fetch(vm(0, 2), node, name).version() == version);
        return (System.nanoTime() - t0) / 1_000_000;
    }

    @Test
    void theCanaryAloneGetsItOkReportsPromoteItFailureReportsRevertIt() throws Exception {
        publishAndAwaitHeld("desk", 1, pack("desk", 1, null, null), n(1));
        publishAndAwaitHeld("desk", 2, pack("desk", 2, canary(n(1), 2, 1, 2), null), n(2));
        SimulatedVm.Answer onCanary = fetch(vm(1, 1), n(1), "desk");
        assertThat(onCanary.version()).isEqualTo(2);
        assertThat(onCanary.state()).isEqualTo("rolling");
        for (NodeProcess other : List.of(n(2), n(3))) {
            SimulatedVm.Answer a = fetch(vm(1, 1), other, "desk");
            assertThat(a.version()).as(other.id()).isEqualTo(1);
            assertThat(a.state()).isEqualTo("fallback");
            assertThat(a.header("X-Knowngood-Latest")).isEqualTo("2");
        }
        // two distinct VMs on the canary say ok: wave 1 (every host), then good
        assertThat(vm(1, 1).report(n(1).ip(), n(1).vmPort(), "desk", 2, "ok", "").status()).isEqualTo(202);
        assertThat(vm(1, 2).report(n(1).ip(), n(1).vmPort(), "desk", 2, "ok", "").status()).isEqualTo(202);
        awaitServes(n(3), "desk", 2, Duration.ofSeconds(15));
        awaitStateEverywhere("desk", 2, "good");

        // version 3 on canary n2 fails on two VMs: n2 falls back to 2 within 5 s, everyone ends reverted
        publishAndAwaitHeld("desk", 3, pack("desk", 3, canary(n(2), 100, 3600, 2), null), n(1));
        assertThat(fetch(vm(1, 3), n(2), "desk").version()).isEqualTo(3);
        vm(1, 3).report(n(2).ip(), n(2).vmPort(), "desk", 3, "failed", "printer service did not start");
        long t0 = System.nanoTime();
        vm(1, 4).report(n(2).ip(), n(2).vmPort(), "desk", 3, "failed", "printer service did not start");
        awaitServes(n(2), "desk", 2, Duration.ofSeconds(5));
        long fellBackMs = (System.nanoTime() - t0) / 1_000_000;
        SimulatedVm.Answer back = fetch(vm(1, 3), n(2), "desk");
        assertThat(back.state()).isEqualTo("fallback");
        awaitStateEverywhere("desk", 3, "reverted");
        for (NodeProcess node : c.nodes()) {
            assertThat(fetch(vm(1, 5), node, "desk").version()).as(node.id()).isEqualTo(2);
        }
        System.out.println("rollout: canary fell back " + fellBackMs + " ms after the 2nd failure report");

        // a signed abort, sent to a node that is not the canary, reverts version 4 everywhere
        publishAndAwaitHeld("desk", 4, pack("desk", 4, canary(n(3), 100, 3600, 50), null), n(1));
        assertThat(fetch(vm(1, 6), n(3), "desk").version()).isEqualTo(4);
        assertThat(control(n(1), "desk", 4, RolloutControl.Action.ABORT)).isEqualTo(202);
        awaitServes(n(3), "desk", 2, Duration.ofSeconds(5));
        awaitStateEverywhere("desk", 4, "reverted");

        // a signed promote makes version 5 good everywhere at once
        publishAndAwaitHeld("desk", 5, pack("desk", 5, canary(n(3), 100, 3600, 50), null), n(1));
        assertThat(control(n(2), "desk", 5, RolloutControl.Action.PROMOTE)).isEqualTo(202);
        for (NodeProcess node : c.nodes()) {
            awaitServes(node, "desk", 5, Duration.ofSeconds(10));
        }
        awaitStateEverywhere("desk", 5, "good");
    }

    @Test
    void aCanaryCutOffFromTheMeshRevertsOnItsOwnAndTheMeshAgreesAfterTheHeal() throws Exception {
        publishAndAwaitHeld("part", 1, pack("part", 1, null, null), n(1));
        publishAndAwaitHeld("part", 2, pack("part", 2, canary(n(1), 100, 3600, 2), null), n(1));
        for (NodeProcess o : List.of(n(2), n(3))) {
            NetworkFaults.drop(n(1).ip(), o.ip());
            NetworkFaults.drop(o.ip(), n(1).ip());
        }
        try {
            vm(2, 1).report(n(1).ip(), n(1).vmPort(), "part", 2, "failed", "x");
            vm(2, 2).report(n(1).ip(), n(1).vmPort(), "part", 2, "failed", "y");
            awaitServes(n(1), "part", 1, Duration.ofSeconds(5));
            assertThat(rollout(n(2), "part", 2).map(RolloutList.Rollout::state)).hasValue("rolling");
        } finally {
            NetworkFaults.healAll();
        }
        awaitStateEverywhere("part", 2, "reverted");
    }

    @Test
    void anExpiredVersionIsStillServedAndMarked() throws Exception {
        publishAndAwaitHeld("exp", 1, pack("exp", 1, null, Instant.now().plusMillis(1500)), n(1));
        Awaitility.await("expired").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                .until(() -> "true".equals(fetch(vm(3, 1), n(2), "exp").header("X-Knowngood-Expired")));
        SimulatedVm.Answer a = fetch(vm(3, 1), n(3), "exp");
        assertThat(a.status()).isEqualTo(200);
        assertThat(a.header("X-Knowngood-Expired")).isEqualTo("true");
        assertThat(vm(3, 1).get(n(3).ip(), n(3).vmPort(), "/v1/health").bodyText()).contains("\"expired\":[\"exp\"]");
    }

    @Test
    void forgedControlsFromAnAdmittedRogueMemberAreIgnored() throws Exception {
        publishAndAwaitHeld("rogued", 1, pack("rogued", 1, null, null), n(1));
        publishAndAwaitHeld("rogued", 2, pack("rogued", 2, canary(n(1), 100, 3600, 50), null), n(1));
        List<InetSocketAddress> peers = new ArrayList<>();
        for (NodeProcess node : c.nodes()) {
            peers.add(new InetSocketAddress(InetAddress.getByName(node.ip()), node.clusterPort()));
        }
        try (RogueMember rogue = new RogueMember(c.clusterName(), new InetSocketAddress(InetAddress.getByName(c.rogueIp()),
                c.rogueClusterPort()), peers, c.verifier(), c.meshCa().issue("rogue"))) {
            rogue.start();
            Awaitility.await("rogue admitted").atMost(Duration.ofSeconds(60)).until(rogue::clustered);
            KeyPair own = Ed25519Keys.generate();
            String abort = b64(ControlCodec.sign(new RolloutControl("rogued", 2, RolloutControl.Action.ABORT, Instant.now()), own.getPrivate()));
            String promote = b64(ControlCodec.sign(new RolloutControl("rogued", 2, RolloutControl.Action.PROMOTE, Instant.now()),
                    own.getPrivate()));
            byte[] genuine = ControlCodec.sign(new RolloutControl("rogued", 2, RolloutControl.Action.ABORT, Instant.now()),
                    c.publisher().getPrivate());
            genuine[genuine.length / 2] ^= 1; // a genuine abort, tampered on the way
            String record = "{\"controls\":[\"" + abort + "\",\"" + promote + "\",\"" + b64(genuine) + "\"],\"failed\":0,"
                    + "\"host_wave\":0,\"ok\":0,\"reason\":\"\",\"serving\":1,\"since\":" + System.currentTimeMillis()
                    + ",\"state\":\"rolling\",\"wave\":0,\"waves\":2}";
            assertThat(rogue.putRecord("r/rogued@2", record.getBytes(StandardCharsets.UTF_8))).isEqualTo(MeshRecords.PutResult.STORED);
            assertThat(rogue.putRecord("r/rogued@2x", "not a record".getBytes(StandardCharsets.UTF_8))).isEqualTo(MeshRecords.PutResult.STORED);
            for (NodeProcess node : c.nodes()) {
                Awaitility.await(node.id() + " saw and ignored the forged controls").atMost(Duration.ofSeconds(20))
                        .pollInterval(Duration.ofMillis(200))
                        .until(() -> metric(node, "kgnode_rollout_controls_rejected_total", "source=\"peer\"", "reason=\"invalid_control\"") >= 3);
            }
        }
        for (NodeProcess node : c.nodes()) {
            assertThat(rollout(node, "rogued", 2).map(RolloutList.Rollout::state)).as(node.id()).hasValue("rolling");
        }
        assertThat(fetch(vm(5, 1), n(1), "rogued").version()).isEqualTo(2);
        assertThat(fetch(vm(5, 1), n(2), "rogued").version()).isEqualTo(1);
        assertThat(fetch(vm(5, 1), n(3), "rogued").version()).isEqualTo(1);
    }

    static String b64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }

    /** The sample of {@code name} whose labels include every one of {@code labels} (0 when absent or unreachable). */
    static double metric(NodeProcess node, String name, String... labels) {
        try {
            return MetricsPage.of(node).value(name, labels).orElse(0);
        } catch (java.io.IOException e) {
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    @Test
    void badReportsAreRefusedAndChangeNothing() throws Exception {
        publishAndAwaitHeld("abuse", 1, pack("abuse", 1, canary(n(1), 100, 3600, 2), null), n(1));
        SimulatedVm v = vm(4, 1);
        assertThat(v.send(n(1).ip(), n(1).vmPort(), "POST", "/v1/reports", "{nope".getBytes()).status()).isEqualTo(400);
        assertThat(v.send(n(1).ip(), n(1).vmPort(), "POST", "/v1/reports", new byte[5000]).status()).isEqualTo(413);
        assertThat(v.report(n(1).ip(), n(1).vmPort(), "nosuch", 1, "failed", "").status()).isEqualTo(404);
        assertThat(v.report(n(1).ip(), n(1).vmPort(), "abuse", 9, "failed", "").status()).isEqualTo(404);
        int last = 0;
        for (int i = 0; i < 60 && last != 429; i++) {
            last = v.report(n(1).ip(), n(1).vmPort(), "abuse", 1, "failed", "flood").status();
        }
        assertThat(last).isEqualTo(429);
        assertThat(rollout(n(1), "abuse", 1).map(RolloutList.Rollout::failed)).as("one address is one VM").hasValue(1);
        assertThat(fetch(v, n(1), "abuse").version()).isEqualTo(1);
    }
}
