package io.knowngood.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.knowngood.api.HeaderNames;
import io.knowngood.crypto.bundle.VerifiedBundle;
import io.knowngood.node.cluster.ClusterFactory;
import io.knowngood.node.cluster.ClusterLink;
import io.knowngood.node.cluster.ClusterStatus;
import io.knowngood.node.cluster.StandaloneLink;
import io.knowngood.node.config.NodeConfig;
import io.knowngood.node.config.Settings;
import io.knowngood.replication.MeshRecords;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node serves what its disk holds before its mesh link exists: setting up the link (the mesh's
 * credentials, Infinispan and JGroups objects) begins once the VM endpoint listens, is not on the path
 * to the first 200 from disk, and until it is done the node reports its mesh as STARTING, not in touch.
 */
class ServesBeforeTheMeshLinkTest {

    @TempDir
    Path dir;

    private final TestBundles bundles = new TestBundles();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void theVmEndpointAnswersFromDisk_whileTheMeshLinkIsStillBeingCreated() throws Exception {
        Path trust = bundles.writePublicKey(dir);
        try (TestNode first = TestNode.start(dir, trust)) {
            assertThat(first.publish("desktop-base", bundles.bundle("desktop-base", 3, "from disk")).statusCode()).isEqualTo(201);
        }
        int vmPort = freePort();
        NodeConfig config = NodeConfig.resolve(settings(trust, vmPort));

        CountDownLatch creating = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean listeningWhenAsked = new AtomicBoolean();
        ClusterFactory slowMesh = (c, verifier, store) -> {
            listeningWhenAsked.set(accepts(vmPort));
            creating.countDown();
            if (!release.await(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("never released");
            }
            return new StandaloneLink(c.nodeId(), c.clusterBind().toString(), store);
        };
        CompletableFuture<Node> started = CompletableFuture.supplyAsync(() -> {
            try {
                return Node.start(config, Clock.systemUTC(), slowMesh);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        try {
            assertThat(creating.await(30, TimeUnit.SECONDS)).as("the mesh link's creation began").isTrue();
            // its CPU (the TLS stores' key derivation, Infinispan's classes) is not taken from the store's open
            assertThat(listeningWhenAsked).as("the VM endpoint listened before the link was asked for").isTrue();
            URI archive = URI.create("http://127.0.0.1:" + vmPort + "/v1/bundles/desktop-base");
            HttpResponse<byte[]> r = Awaitility.await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
                    .ignoreExceptions()
                    .until(() -> http.send(HttpRequest.newBuilder(archive).GET().build(), HttpResponse.BodyHandlers.ofByteArray()),
                            resp -> resp.statusCode() == 200);
            assertThat(started).as("Node.start is still creating the mesh link").isNotDone();
            assertThat(r.headers().firstValue(HeaderNames.VERSION)).contains("3");
            assertThat(r.headers().firstValue(HeaderNames.IN_TOUCH)).contains("false");
            HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + vmPort + "/v1/health"))
                    .GET().build(), HttpResponse.BodyHandlers.ofString());
            assertThat(health.body()).contains("STARTING");
        } finally {
            release.countDown();
        }
        try (Node node = started.get(30, TimeUnit.SECONDS)) {
            // from here the VM endpoint reports the link that was created, once the background started it
            URI healthUri = URI.create("http://127.0.0.1:" + vmPort + "/v1/health");
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> http.send(HttpRequest.newBuilder(healthUri).GET().build(),
                    HttpResponse.BodyHandlers.ofString()).body().contains("\"ALONE\""));
            assertThat(node.cluster().status().state()).isEqualTo("ALONE");
        }
    }

    /**
     * The link is made on its own thread while the endpoints open: a start that fails after that began
     * (here: the admin token file named does not exist) still closes the link, once it is made, and
     * frees the VM endpoint's port.
     */
    @Test
    void aStartThatFailsLater_closesTheMeshLinkMadeBesideIt() throws Exception {
        Path trust = bundles.writePublicKey(dir);
        int vmPort = freePort();
        Settings s = settings(trust, vmPort);
        s.adminTokenFile = dir.resolve("no-such-token").toString();
        NodeConfig config = NodeConfig.resolve(s);
        CountDownLatch closed = new CountDownLatch(1);
        ClusterFactory recording = (c, verifier, store) -> new ClosingSeen(new StandaloneLink(c.nodeId(), c.clusterBind().toString(), store), closed);

        assertThatThrownBy(() -> Node.start(config, Clock.systemUTC(), recording)).isInstanceOf(IOException.class)
                .hasMessageContaining("no-such-token");

        assertThat(closed.await(10, TimeUnit.SECONDS)).as("the mesh link made beside the failed start was closed").isTrue();
        try (ServerSocket again = new ServerSocket(vmPort, 50, java.net.InetAddress.getByName("127.0.0.1"))) {
            assertThat(again.getLocalPort()).as("the VM endpoint's port is free again").isEqualTo(vmPort);
        }
    }

    /** A node on this test's data dir, its VM endpoint on {@code vmPort}, the admin endpoint on any port. */
    private Settings settings(Path trust, int vmPort) {
        Settings s = new Settings();
        s.nodeId = "test-node";
        s.dataDir = dir.resolve("data").toString();
        s.floorFile = dir.resolve("floor").toString();
        s.vmBind = List.of("127.0.0.1:" + vmPort);
        s.adminBind = "127.0.0.1:0";
        s.trustKey = List.of(trust.toString());
        s.scrubInterval = "0";
        return s;
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1_000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** A link that counts down {@code closed} when it is closed. */
    private record ClosingSeen(ClusterLink link, CountDownLatch closed) implements ClusterLink {
        @Override
        public void start() {
            link.start();
        }

        @Override
        public Sending sending(VerifiedBundle bundle) {
            return link.sending(bundle);
        }

        @Override
        public ClusterStatus status() {
            return link.status();
        }

        @Override
        public MeshRecords records() {
            return link.records();
        }

        @Override
        public Map<String, Map<String, Held>> memberDigests() {
            return link.memberDigests();
        }

        @Override
        public void close() {
            link.close();
            closed.countDown();
        }
    }
}
