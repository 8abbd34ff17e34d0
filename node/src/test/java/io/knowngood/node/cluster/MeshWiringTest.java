package io.knowngood.node.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.knowngood.api.ApiJson;
import io.knowngood.api.ClusterView;
import io.knowngood.crypto.bundle.KeyId;
import io.knowngood.node.Node;
import io.knowngood.node.TestBundles;
import io.knowngood.node.config.NodeConfig;
import io.knowngood.node.config.Settings;
import io.knowngood.testkit.Ci;
import io.knowngood.testkit.Promtool;
import io.knowngood.testkit.process.NodeProcess;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node wired to replication's real Mesh (two members in this JVM over loopback): a publish to
 * one node reaches the other's store through LocalBundles and wakes its long-pollers, the
 * freshness headers say the node is in touch, and each remembers the other's address in its data dir.
 */
class MeshWiringTest {

    final TestBundles bundles = new TestBundles();
    final HttpClient http = HttpClient.newHttpClient();

    @Test
    void publishOnOneNode_reachesTheOthersVmEndpoint_andWakesItsLongPoll(@TempDir Path dir) throws Exception {
        Path trust = bundles.writePublicKey(dir);
        int[] ports = NodeProcess.freePortPairs(2);
        int portA = ports[0];
        int portB = ports[1];
        TestBundles rotated = new TestBundles(); // b trusts a second publisher key as well (a key rotation under way)
        Path trustB = rotated.writePublicKey(Files.createDirectories(dir.resolve("rotated")));
        try (Node a = start(dir.resolve("a"), "mesh-a", portA, portB, trust);
             Node b = start(dir.resolve("b"), "mesh-b", portB, portA, trust, trustB)) {
            await().atMost(Duration.ofSeconds(60)).until(() -> a.cluster().status().members().size() == 2
                    && b.cluster().status().members().size() == 2);
            String token = Files.readString(a.config().adminTokenFile()).trim();

            // each member shares which publisher keys it trusts: a's /v1/cluster shows b's two beside its own one
            String one = KeyId.of(bundles.key.getPublic()).hex();
            List<String> both = java.util.stream.Stream.of(one, KeyId.of(rotated.key.getPublic()).hex()).sorted().toList();
            await().atMost(Duration.ofSeconds(30)).until(() -> trustedKeys(a, token), m -> m.equals(Map.of("mesh-a", List.of(one), "mesh-b", both)));
            ClusterView view = cluster(a, token);
            assertThat(view.trustedKeys()).containsExactly(one);

            // a bundle signed by the key only b trusts: a refuses it, and says it is behind its peer on that name
            // (the publish waits its timeout, 2 s here, for a, which never holds it: its answer is read further on)
            String tokenB = Files.readString(b.config().adminTokenFile()).trim();
            CompletableFuture<HttpResponse<String>> onlyB = http.sendAsync(
                    publishRequest(b, tokenB, "rotated-only", rotated.bundle("rotated-only", 1, "signed by the new key")),
                    HttpResponse.BodyHandlers.ofString());
            await().atMost(Duration.ofSeconds(30)).until(() -> scrape(a).contains("kgnode_bundles_behind_peers 1.0"));
            assertThat(scrape(b)).contains("kgnode_bundles_behind_peers 0.0");
            assertThat(a.store().current("rotated-only")).isEmpty();
            HttpResponse<String> first = publish(a, token, bundles.bundle("shared", 1, "for everyone"));
            assertThat(first.statusCode()).isEqualTo(201);
            assertThat(first.body()).contains("\"membersInView\":2");
            await().atMost(Duration.ofSeconds(30)).until(() -> b.store().floor("shared").orElse(0L) == 1L);
            CompletableFuture<HttpResponse<byte[]>> waiting = http.sendAsync(
                    HttpRequest.newBuilder(vm(b, "/v1/bundles/shared?wait=60&after=1")).build(), HttpResponse.BodyHandlers.ofByteArray());
            await().atMost(Duration.ofSeconds(10)).until(() -> b.metrics().scrape().length > 0
                    && new String(b.metrics().scrape(), java.nio.charset.StandardCharsets.UTF_8).contains("kgnode_long_poll_waiters 1"));

            HttpResponse<String> published = publish(a, token, bundles.bundle("shared", 2, "for everyone, again"));
            assertThat(published.statusCode()).isEqualTo(201);

            HttpResponse<byte[]> r = waiting.get();
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("X-Knowngood-Version")).hasValue("2");
            assertThat(r.headers().firstValue("X-Knowngood-In-Touch")).hasValue("true");
            assertThat(r.headers().firstValue("X-Knowngood-Last-Contact").orElseThrow()).isNotEqualTo("never");
            assertThat(b.store().floor("shared")).hasValue(2);

            // The members get a publish while the publisher's copy becomes durable. If that then fails,
            // the answer says so: the publisher keeps serving what it had, the members verify and keep the new one.
            Path floorA = a.config().floorFile();
            Files.delete(floorA);
            Files.createDirectories(floorA.resolve("occupied")); // nothing can be renamed over a non-empty directory
            HttpResponse<String> failed = publish(a, token, bundles.bundle("shared", 3, "sent while being written"));
            assertThat(failed.statusCode()).isEqualTo(503);
            assertThat(failed.body()).contains("store_unavailable").contains("already been sent to the mesh");
            assertThat(a.store().current("shared").orElseThrow().version()).isEqualTo(2);
            await().atMost(Duration.ofSeconds(30)).until(() -> b.store().floor("shared").orElse(0L) == 3L);
            Files.delete(floorA.resolve("occupied"));
            Files.delete(floorA);
            // each remembers the other's cluster address in its data dir, for discovery after a restart
            await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(dir.resolve("a/data").resolve(MeshLink.MESH_PEERS_FILE))
                    && Files.readString(dir.resolve("a/data").resolve(MeshLink.MESH_PEERS_FILE)).contains("127.0.0.1 " + portB + "\n"));

            // the metrics page: replication's counters and the JVM's, valid for Prometheus' own linter
            String token2 = Files.readString(b.config().adminTokenFile()).trim();
            String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + b.adminAddress().getPort() + "/metrics"))
                    .header("Authorization", "Bearer " + token2).build(), HttpResponse.BodyHandlers.ofString()).body();
            assertThat(metrics).contains("kgnode_mesh_received_total{source=").contains("kgnode_antientropy_rounds_total ")
                    .contains("kgnode_antientropy_repairs_total ").contains("kgnode_mesh_record_repushes_total ").contains("kgnode_mesh_coordination_handovers_total ")
                    .contains("kgnode_mesh_merge_checks_saved_total{how=\"kept\"} ").contains("kgnode_mesh_merge_checks_saved_total{how=\"resumed\"} ")
                    .contains("kgnode_mesh_same_id_splits_total{how=\"told\"} ").contains("kgnode_mesh_same_id_splits_total{how=\"left\"} ").contains("jvm_memory_used_bytes{area=\"heap\"}")
                    .contains("jvm_threads_current ").contains("process_cpu_seconds_total ").contains("jvm_gc_collection_seconds_count{gc=")
                    .contains("jvm_compilation_time_seconds_total ").contains("jvm_classes_currently_loaded ")
                    // its GC-notification listener costs CPU at every collection (NodeMetrics.bindRuntime)
                    .doesNotContain("jvm_memory_pool_allocated_bytes_total");
            HttpResponse<String> onlyBAnswer = onlyB.get(30, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(onlyBAnswer.statusCode()).as(onlyBAnswer.body()).isEqualTo(201);
            assertThat(onlyBAnswer.body()).contains("\"membersHolding\":1,\"membersInView\":2,\"complete\":false");
            Assumptions.assumeTrue(Ci.available(Promtool.missing()), Promtool.missing());
            Promtool.Result lint = Promtool.checkMetrics(metrics);
            assertThat(lint.exitCode()).as("promtool check metrics:\n" + lint.output()).isZero();
            assertThat(lint.output()).as("promtool findings").isBlank();
        }
    }

    private static String scrape(Node n) {
        return new String(n.metrics().scrape(), java.nio.charset.StandardCharsets.UTF_8);
    }

    private HttpResponse<String> publish(Node to, String token, byte[] archive) throws Exception {
        return publish(to, token, "shared", archive);
    }

    private HttpResponse<String> publish(Node to, String token, String name, byte[] archive) throws Exception {
        return http.send(publishRequest(to, token, name, archive), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpRequest publishRequest(Node to, String token, String name, byte[] archive) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + to.adminAddress().getPort() + "/v1/bundles/" + name))
                .header("Authorization", "Bearer " + token).PUT(HttpRequest.BodyPublishers.ofByteArray(archive)).build();
    }

    private ClusterView cluster(Node n, String token) throws Exception {
        byte[] body = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.adminAddress().getPort() + "/v1/cluster"))
                .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofByteArray()).body();
        return ((ApiJson.Decoded.Body<ClusterView>) ApiJson.decode(body, ClusterView.class)).value();
    }

    /** member id -> the publisher keys it trusts, as {@code n}'s /v1/cluster shows them (members without a record left out). */
    private Map<String, List<String>> trustedKeys(Node n, String token) throws Exception {
        Map<String, List<String>> out = new java.util.TreeMap<>();
        cluster(n, token).members().stream().filter(m -> m.trustedKeys() != null).forEach(m -> out.put(m.id(), m.trustedKeys()));
        return out;
    }

    private Node start(Path dir, String id, int clusterPort, int peerPort, Path... trust) throws Exception {
        Settings s = new Settings();
        s.nodeId = id;
        s.clusterName = "wiring-" + Math.min(clusterPort, peerPort);
        s.dataDir = dir.resolve("data").toString();
        s.clusterBind = "127.0.0.1:" + clusterPort;
        s.peers = List.of("127.0.0.1:" + peerPort);
        s.vmBind = List.of("127.0.0.1:0");
        s.adminBind = "127.0.0.1:0";
        s.trustKey = java.util.Arrays.stream(trust).map(Path::toString).toList();
        s.meshTimings = "local-testing";
        s.scrubInterval = "0";
        s.publishTimeout = "2s"; // a publish a member refuses answers after it (the default 10 s made this test 10 s longer)
        NodeConfig config = NodeConfig.resolve(s);
        return Node.start(config, Clock.systemUTC(), MeshLink.factory(Clock.systemUTC()));
    }

    private static URI vm(Node n, String path) {
        return URI.create("http://127.0.0.1:" + n.vmAddresses().get(0).getPort() + path);
    }
}
