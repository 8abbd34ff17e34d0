package io.knowngood.chaos;

import io.knowngood.crypto.bundle.BundlePacker;
import io.knowngood.crypto.bundle.BundleVerifier;
import io.knowngood.crypto.bundle.Ed25519Keys;
import io.knowngood.crypto.bundle.Limits;
import io.knowngood.crypto.bundle.TrustedKeys;
import io.knowngood.crypto.bundle.VerifyResult;
import java.io.IOException;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A mesh of real kgnode processes on 127.0.0.(base+i), a publisher key, and the HTTP calls the
 * workload and checkers make. Node-to-node traffic leaves from each node's own address, so a
 * {@link NetworkFaults} rule between two addresses cuts exactly that pair.
 */
final class ChaosCluster implements AutoCloseable {
    static final String TOKEN = "chaos-admin-token-0123456789abcdef";

    final List<NodeProcess> nodes = new ArrayList<>();
    final Path dir;
    final String clusterName;
    /** The mesh CA: every node (and the rogue member) gets a certificate from it, as in production. */
    final io.knowngood.crypto.meshca.MeshCa meshCa = io.knowngood.crypto.meshca.MeshCa.generate(Clock.systemUTC());
    private final int portBase;
    final KeyPair publisher = Ed25519Keys.generate();
    final BundleVerifier verifier;
    /** The workload running against this cluster, for faults that act on it (publisher down). */
    volatile Workload workload;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    /**
     * JVM flags of every node process; -Dchaos.node.jvm="..." replaces them (benchmarks try others),
     * and -Dchaos.node.launcher=true starts nodes through bin/kgnode with the flags users get.
     */
    static final String DEFAULT_JVM = "-Xmx96m -XX:+UseSerialGC -XX:TieredStopAtLevel=1";

    ChaosCluster(Path dir, Path jar, int size, int ipBase, int portBase) throws IOException {
        this(dir, jar, size, ipBase, portBase, List.of());
    }

    ChaosCluster(Path dir, Path jar, int size, int ipBase, int portBase, List<String> extraArgs) throws IOException {
        this.dir = dir;
        this.clusterName = "chaos-" + portBase;
        this.portBase = portBase;
        // start from empty stores: a previous run's rollback floors would refuse this run's version 1
        StoreFaults.deleteTree(dir);
        Files.createDirectories(dir);
        Path trust = dir.resolve("publisher.pub");
        Ed25519Keys.writePublicPem(publisher.getPublic(), trust);
        Path token = dir.resolve("admin.token");
        Files.writeString(token, TOKEN + "\n");
        verifier = new BundleVerifier(TrustedKeys.of(List.of(publisher.getPublic())), Limits.defaults());
        for (int i = 0; i < size; i++) {
            String ip = "127.0.0." + (ipBase + i);
            List<String> base = new ArrayList<>();
            if (Boolean.getBoolean("chaos.node.launcher")) {
                // the shipped launcher with its own JVM flags and CDS archive (benchmarks of what users run)
                base.addAll(List.of("env", "KGNODE_JAR=" + jar, launcher(jar).toString()));
            } else {
                base.add(javaBin());
                base.addAll(List.of(System.getProperty("chaos.node.jvm", DEFAULT_JVM).trim().split("\\s+")));
                base.addAll(List.of("-jar", jar.toString()));
            }
            base.addAll(List.of("run",
                    "--cluster-name", clusterName,
                    "--trust-key", trust.toString(),
                    "--admin-token-file", token.toString()));
            Path tls = dir.resolve("n" + (i + 1) + "-tls");
            meshCa.issue("n" + (i + 1)).writeTo(tls);
            base.addAll(List.of("--cluster-tls-dir", tls.toString()));
            base.addAll(extraArgs);
            nodes.add(new NodeProcess("n" + (i + 1), ip, portBase + i, portBase + 100 + i, portBase + 200 + i,
                    dir.resolve("n" + (i + 1) + "-data"), dir.resolve("n" + (i + 1) + ".log"), base));
        }
    }

    /** bin/kgnode of the checkout the jar was built in (node/target/kgnode.jar -> bin/kgnode). */
    static Path launcher(Path jar) {
        return jar.toAbsolutePath().getParent().getParent().getParent().resolve("bin").resolve("kgnode");
    }

    /** Starts {@code n}, publishes version 1 of {@code name} to it and stops it: a store holding one bundle on disk. */
    void holdOneAndStop(NodeProcess n, String name) throws Exception {
        start(n);
        ProcessFaults.awaitHealthy(this, n);
        if (publish(n, name, pack(name, 1)) != 201) {
            throw new IllegalStateException("publish of " + name + " to " + n.id + " refused");
        }
        n.stop();
    }

    /** Cluster port for a rogue member (127.0.0.29); its failure-detection port is the next one. */
    int rogueClusterPort() {
        return portBase + 90;
    }

    List<String> peersOf(NodeProcess n) {
        List<String> peers = new ArrayList<>();
        for (NodeProcess o : nodes) {
            if (o != n) {
                peers.add(o.clusterAddress());
            }
        }
        return peers;
    }

    void start(NodeProcess n) throws IOException {
        n.start(peersOf(n));
    }

    /** The node's VM endpoint answers (its health may still say 503 while it withholds a damaged copy). */
    boolean healthy(NodeProcess n) {
        try {
            int status = get(n.vmUrl() + "/v1/health", Duration.ofSeconds(1)).statusCode();
            return status == 200 || status == 503;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    byte[] pack(String name, long version) {
        TreeMap<String, byte[]> files = new TreeMap<>();
        files.put("config.ini", ("[bundle]\nname=" + name + "\nversion=" + version + "\n").getBytes(StandardCharsets.UTF_8));
        return BundlePacker.pack(name, version, files, Map.of(), publisher.getPrivate(), Clock.systemUTC());
    }

    /** PUT to one node's admin endpoint; returns the HTTP status, or -1 when the node did not answer. */
    int publish(NodeProcess n, String name, byte[] archive) {
        HttpRequest req = HttpRequest.newBuilder(URI.create(n.adminUrl() + "/v1/bundles/" + name))
                .timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + TOKEN)
                .PUT(HttpRequest.BodyPublishers.ofByteArray(archive)).build();
        try {
            return http.send(req, HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** What a VM sees: status, and for a 200 the version and digest after verifying the bytes itself. */
    record Served(int status, long version, String digest, boolean verified, String error) {
    }

    Served fetch(NodeProcess n, String name) {
        try {
            HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create(n.vmUrl() + "/v1/bundles/" + name))
                    .timeout(Duration.ofSeconds(3)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
            if (r.statusCode() != 200) {
                return new Served(r.statusCode(), -1, null, false, null);
            }
            VerifyResult v = verifier.verifyAs(name, r.body());
            if (v instanceof VerifyResult.Verified ok) {
                long header = r.headers().firstValueAsLong("X-Knowngood-Version").orElse(-1);
                boolean consistent = header == ok.bundle().version();
                return new Served(200, ok.bundle().version(), ok.bundle().manifestDigest(), consistent,
                        consistent ? null : "X-Knowngood-Version " + header + " but body is " + ok.bundle().version());
            }
            return new Served(200, -1, null, false, ((VerifyResult.Rejected) v).reason().detail());
        } catch (IOException e) {
            return new Served(-1, -1, null, false, e.getClass().getSimpleName());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Served(-1, -1, null, false, "interrupted");
        }
    }

    private HttpResponse<String> get(String url, Duration timeout) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(timeout).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Override
    public void close() throws InterruptedException {
        for (NodeProcess n : nodes) {
            signal(n, "CONT");
        }
        for (NodeProcess n : nodes) {
            n.stop();
        }
    }

    private static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    static void signal(NodeProcess n, String sig) {
        try {
            n.signal(sig);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
