package io.knowngood.testkit.cluster;

import io.knowngood.api.ClusterView;
import io.knowngood.api.ApiJson;
import io.knowngood.api.ErrorBody;
import io.knowngood.api.HeaderNames;
import io.knowngood.api.RolloutList;
import io.knowngood.crypto.bundle.BundlePacker;
import io.knowngood.crypto.bundle.BundleVerifier;
import io.knowngood.crypto.bundle.Ed25519Keys;
import io.knowngood.crypto.bundle.Limits;
import io.knowngood.crypto.bundle.RolloutPolicy;
import io.knowngood.crypto.bundle.TrustedKeys;
import io.knowngood.crypto.bundle.VerifyResult;
import io.knowngood.crypto.meshca.MeshCa;
import io.knowngood.testkit.process.ClassArchive;
import io.knowngood.testkit.process.FileTrees;
import io.knowngood.testkit.process.NodeProcess;
import io.knowngood.testkit.workload.Workload;
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
import java.util.Optional;
import java.util.TreeMap;
import org.awaitility.Awaitility;

/**
 * A mesh of real kgnode processes on 127.0.0.(ipBase+i), a publisher key, and the HTTP calls the
 * workload and checkers make. Node-to-node traffic leaves from each node's own address, so an
 * iptables rule between two addresses cuts exactly that pair. Node i (from 0) gets cluster port
 * portBase+i, VM port portBase+100+i and admin port portBase+200+i; every node has a certificate
 * from a per-cluster mesh CA, as in production. Each cluster starts from an empty directory.
 * Addresses 127.0.0.(ipBase) to 127.0.0.(ipBase+9) belong to the cluster (+8 for a rogue member, +9
 * for the no-dns fault's DNS trap), so two runs on one machine need ipBases at least 10 apart
 * ({@link #ipBaseProperty}).
 */
public final class ChaosCluster implements AutoCloseable {
    public static final String TOKEN = "chaos-admin-token-0123456789abcdef";
    /** The system property that moves a run's addresses, so two runs on one machine do not collide. */
    public static final String IP_BASE_PROPERTY = "chaos.ipBase";
    /** A rogue member's address is 127.0.0.(ipBase + this). */
    static final int ROGUE_OFFSET = 8;
    /** The no-dns fault's DNS trap listens on 127.0.0.(ipBase + this), port 53. */
    static final int DNS_TRAP_OFFSET = 9;

    private final List<NodeProcess> nodes = new ArrayList<>();
    /** Per node index, its site (null without sites). */
    private final List<String> siteOf = new ArrayList<>();
    private final Path dir;
    private final String clusterName;
    private final MeshCa meshCa = MeshCa.generate(Clock.systemUTC());
    private final int portBase;
    private final int ipBase;
    private final KeyPair publisher = Ed25519Keys.generate();
    private final BundleVerifier verifier;
    /** The workload running against this cluster, for faults that act on it (publisher down). */
    private volatile Workload workload;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    public ChaosCluster(Path dir, Path jar, int size, int ipBase, int portBase) throws IOException {
        this(dir, jar, size, ipBase, portBase, List.of());
    }

    /** {@code extraArgs} go after {@code kgnode run} on every node. */
    public ChaosCluster(Path dir, Path jar, int size, int ipBase, int portBase, List<String> extraArgs) throws IOException {
        this(dir, jar, size, ipBase, portBase, extraArgs, List.of());
    }

    /** Offset of a node's bridge port (and + 1) from portBase, with sites. */
    static final int BRIDGE_PORT_OFFSET = 50;

    /**
     * Several sites of {@code perSite} nodes each, bridged by cross-site replication: node i is in site
     * {@code siteNames.get(i / perSite)}, its peers are its own site's nodes, every node has a bridge on
     * portBase+50+i and lists the other sites' bridges. One mesh CA for all, as sites need.
     */
    public static ChaosCluster sites(Path dir, Path jar, List<String> siteNames, int perSite, int ipBase, int portBase)
            throws IOException {
        return new ChaosCluster(dir, jar, siteNames.size() * perSite, ipBase, portBase, List.of(), siteNames);
    }

    private ChaosCluster(Path dir, Path jar, int size, int ipBase, int portBase, List<String> extraArgs, List<String> siteNames)
            throws IOException {
        this.dir = dir.toAbsolutePath();
        this.clusterName = "chaos-" + portBase;
        this.portBase = portBase;
        if (ipBase < 1 || ipBase + DNS_TRAP_OFFSET > 254) {
            throw new IllegalArgumentException("ipBase must be 1.." + (254 - DNS_TRAP_OFFSET) + " (127.0.0.ipBase..ipBase+"
                    + DNS_TRAP_OFFSET + " are used): " + ipBase);
        }
        if (size > ROGUE_OFFSET) {
            throw new IllegalArgumentException("at most " + ROGUE_OFFSET + " nodes (127.0.0.(ipBase+8) is the rogue's): " + size);
        }
        this.ipBase = ipBase;
        // start from empty stores: a previous run's rollback floors would refuse this run's version 1
        FileTrees.delete(this.dir);
        Files.createDirectories(this.dir);
        Path trust = this.dir.resolve("publisher.pub");
        Ed25519Keys.writePublicPem(publisher.getPublic(), trust);
        verifier = new BundleVerifier(TrustedKeys.of(List.of(publisher.getPublic())), Limits.defaults());
        for (int i = 0; i < size; i++) {
            String id = "n" + (i + 1);
            Path tls = this.dir.resolve(id + "-tls");
            meshCa.issue(id).writeTo(tls);
            nodes.add(NodeProcess.builder(id, this.dir).jar(jar).ip("127.0.0." + (ipBase + i))
                    .clusterPort(portBase + i).vmPort(portBase + 100 + i).adminPort(portBase + 200 + i)
                    .adminToken(TOKEN)
                    .args("--cluster-name", clusterName, "--trust-key", trust.toString(), "--cluster-tls-dir", tls.toString())
                    .args(extraArgs)
                    .build());
        }
        int perSite = siteNames.isEmpty() ? size : size / siteNames.size();
        for (int i = 0; i < size; i++) {
            siteOf.add(siteNames.isEmpty() ? null : siteNames.get(i / perSite));
        }
        for (int i = 0; i < size && !siteNames.isEmpty(); i++) {
            String site = siteOf.get(i);
            List<String> others = siteNames.stream().filter(x -> !x.equals(site)).toList();
            List<String> bridges = new ArrayList<>();
            for (int j = 0; j < size; j++) {
                if (!siteOf.get(j).equals(site)) {
                    bridges.add(bridgeAddress(j));
                }
            }
            nodes.get(i).extraArgs(List.of("--site", site, "--sites", String.join(",", others), "--site-bridge", bridgeAddress(i),
                    "--site-peers", String.join(",", bridges)));
        }
        for (NodeProcess n : nodes) {
            n.peers(peersOf(n));
        }
    }

    private String bridgeAddress(int i) {
        return nodes.get(i).ip() + ":" + (portBase + BRIDGE_PORT_OFFSET + i);
    }

    /** The node's site, or null without sites. */
    public String siteOf(NodeProcess n) {
        return siteOf.get(nodes.indexOf(n));
    }

    /** The node the first answering node of {@code site} names as its coordinator (its site master). */
    public Optional<NodeProcess> siteMaster(String site) {
        for (NodeProcess n : site(site)) {
            Optional<ClusterView> v = clusterView(n);
            if (v.isPresent() && v.get().coordinator() != null) {
                String id = v.get().coordinator();
                return nodes.stream().filter(x -> x.id().equals(id)).findFirst();
            }
        }
        return Optional.empty();
    }

    /** {@code GET /v1/cluster} of one node, empty when it does not answer. */
    public Optional<ClusterView> clusterView(NodeProcess n) {
        return n.clusterView();
    }

    /** The nodes of one site, in order. */
    public List<NodeProcess> site(String name) {
        List<NodeProcess> out = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            if (name.equals(siteOf.get(i))) {
                out.add(nodes.get(i));
            }
        }
        return out;
    }

    /**
     * The last octet of the first node's address: {@code -Dchaos.ipBase=N} when given, else
     * {@code defaultBase}. CI runs use their defaults; a second run on the same machine passes another
     * base (e.g. 160), at least 10 away.
     */
    public static int ipBaseProperty(int defaultBase) {
        return ipBase(System.getProperty(IP_BASE_PROPERTY), defaultBase);
    }

    /** {@link #ipBaseProperty} for a given property value (null or blank: the default). */
    static int ipBase(String v, int defaultBase) {
        if (v == null || v.isBlank()) {
            return defaultBase;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-D" + IP_BASE_PROPERTY + " must be a number 1.." + (254 - DNS_TRAP_OFFSET) + ": " + v, e);
        }
    }

    public int ipBase() {
        return ipBase;
    }

    /** Address for a rogue member: 127.0.0.(ipBase+8), outside the nodes' range (127.0.0.29 with the CI tier's base 21). */
    public String rogueIp() {
        return "127.0.0." + (ipBase + ROGUE_OFFSET);
    }

    /** Address of the no-dns fault's DNS trap: 127.0.0.(ipBase+9) (127.0.0.30 with the CI tier's base 21). */
    public String dnsTrapIp() {
        return "127.0.0." + (ipBase + DNS_TRAP_OFFSET);
    }

    public List<NodeProcess> nodes() {
        return List.copyOf(nodes);
    }

    public NodeProcess node(int i) {
        return nodes.get(i);
    }

    public Path dir() {
        return dir;
    }

    public String clusterName() {
        return clusterName;
    }

    /** The mesh CA that issued every node's certificate (a rogue member gets one too). */
    public MeshCa meshCa() {
        return meshCa;
    }

    /** Verifies with the publisher's key, as a VM does. */
    public BundleVerifier verifier() {
        return verifier;
    }

    public KeyPair publisher() {
        return publisher;
    }

    public Workload workload() {
        return workload;
    }

    public void workload(Workload w) {
        this.workload = w;
    }

    /** Cluster port for a rogue member (on {@link #rogueIp()}); its failure-detection port is the next one. */
    public int rogueClusterPort() {
        return portBase + 90;
    }

    public List<String> peersOf(NodeProcess n) {
        List<String> peers = new ArrayList<>();
        String site = siteOf(n);
        for (NodeProcess o : nodes) {
            if (o != n && java.util.Objects.equals(site, siteOf(o))) {
                peers.add(o.clusterAddress());
            }
        }
        return peers;
    }

    public void start(NodeProcess n) throws IOException {
        n.start();
    }

    /** Starts every node, then waits until each answers. */
    public void startAll() throws IOException {
        for (NodeProcess n : nodes) {
            n.start();
        }
        for (NodeProcess n : nodes) {
            awaitUp(n);
        }
    }

    /**
     * Has every node start with an AppCDS archive of this jar from now on, as {@code bin/kgnode} does on
     * a host after its first stop (it archives at exit; the harness starts {@code java -jar} itself).
     * The archive is the module's {@link ClassArchive}, shared with every other test's nodes; when there is
     * none yet, node 0 is started once with {@code -XX:ArchiveClassesAtExit}, alone, until its mesh has
     * started (TLS, JGroups, Infinispan loaded), then stopped with SIGTERM so the JVM writes it. Its store
     * stays empty. If no archive comes of it, nodes start without one and this says so.
     */
    public void shareClasses() throws IOException, InterruptedException {
        NodeProcess n = nodes.get(0);
        Path jar = n.archivedJar().orElse(null);
        Optional<Path> archive = jar == null ? Optional.empty() : ClassArchive.fresh(jar);
        if (archive.isEmpty()) {
            Path jsa = dir.resolve("kgnode-classes.jsa");
            n.classSharing(ClassArchive.writeAtExit(jsa));
            n.start();
            awaitUp(n);
            try {
                Awaitility.await(n + " mesh started, alone").atMost(NodeProcess.START_DEADLINE).pollInterval(Duration.ofMillis(200))
                        .until(() -> n.clusterView().map(v -> !"STARTING".equals(v.state())).orElse(false));
            } finally {
                n.stop();
            }
            archive = jar != null ? ClassArchive.adopt(jsa, jar, n.exitCode())
                    : ClassArchive.complete(jsa, n.exitCode()) ? Optional.of(jsa) : Optional.empty();
        }
        List<String> use = archive.map(ClassArchive::use).orElse(List.of());
        if (use.isEmpty()) {
            System.out.println("note: no class data sharing archive was written for " + n + "; nodes start without one");
        }
        for (NodeProcess x : nodes) {
            x.classSharing(use);
        }
    }

    /** Waits (with {@link NodeProcess#START_DEADLINE}) until the node's VM endpoint answers health. */
    public static void awaitUp(NodeProcess n) {
        Awaitility.await(n + " up").atMost(NodeProcess.START_DEADLINE).pollInterval(Duration.ofMillis(100)).until(n::up);
    }

    /** Starts {@code n}, publishes version 1 of {@code name} to it and stops it: a store holding one bundle on disk. */
    public void holdOneAndStop(NodeProcess n, String name) throws Exception {
        n.start();
        awaitUp(n);
        if (publish(n, name, pack(name, 1)) != 201) {
            throw new IllegalStateException("publish of " + name + " to " + n.id() + " refused");
        }
        n.stop();
    }

    /** The node's VM endpoint answers (its health may still say 503 while it withholds a damaged copy). */
    public boolean healthy(NodeProcess n) {
        return n.up();
    }

    /** A one-file bundle signed by the publisher. */
    public byte[] pack(String name, long version) {
        TreeMap<String, byte[]> files = new TreeMap<>();
        files.put("config.ini", ("[bundle]\nname=" + name + "\nversion=" + version + "\n").getBytes(StandardCharsets.UTF_8));
        return pack(name, version, files);
    }

    public byte[] pack(String name, long version, TreeMap<String, byte[]> files) {
        return BundlePacker.pack(name, version, files, Map.of(), publisher.getPrivate(), Clock.systemUTC());
    }

    /** A one-file bundle signed by the publisher whose manifest carries {@code rollout}. */
    public byte[] pack(String name, long version, RolloutPolicy rollout) {
        TreeMap<String, byte[]> files = new TreeMap<>();
        files.put("config.ini", ("[bundle]\nname=" + name + "\nversion=" + version + "\n").getBytes(StandardCharsets.UTF_8));
        return BundlePacker.pack(name, version, files, new BundlePacker.PackOptions(Map.of(), Optional.empty(), Optional.of(rollout)),
                publisher.getPrivate(), Clock.systemUTC());
    }

    /**
     * Admin GET /v1/rollouts[/{name}] of one node, as that node sees the mesh; empty when it does not
     * answer 200 with a rollout list.
     */
    public Optional<RolloutList> rollouts(NodeProcess n, String name) {
        try {
            HttpResponse<String> r = n.adminGet("/v1/rollouts" + (name == null ? "" : "/" + name));
            if (r.statusCode() != 200) {
                return Optional.empty();
            }
            ApiJson.Decoded<RolloutList> d = ApiJson.decode(r.body().getBytes(StandardCharsets.UTF_8), RolloutList.class);
            return d instanceof ApiJson.Decoded.Body<RolloutList> b ? Optional.of(b.value()) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /** PUT to one node's admin endpoint; returns the HTTP status, or -1 when the node did not answer. */
    public int publish(NodeProcess n, String name, byte[] archive) {
        try {
            return n.publish(name, archive, Duration.ofSeconds(10));
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /**
     * What a VM sees: status, and for a 200 the version and digest after verifying the bytes itself;
     * {@code state} and {@code latest} are the X-Knowngood-State and -Latest headers (null and -1 when
     * the response had none).
     */
    public record Served(int status, long version, String digest, boolean verified, String error, String state, long latest) {
        public Served(int status, long version, String digest, boolean verified, String error) {
            this(status, version, digest, verified, error, null, -1);
        }
    }

    public Served fetch(NodeProcess n, String name) {
        try {
            HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create(n.vmUrl() + "/v1/bundles/" + name))
                    .timeout(Duration.ofSeconds(3)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
            String state = r.headers().firstValue(HeaderNames.STATE).orElse(null);
            long latest = r.headers().firstValueAsLong(HeaderNames.LATEST).orElse(-1);
            if (r.statusCode() != 200) {
                // the contract's error body, so a failed check says why (e.g. "behind_floor: ...")
                ApiJson.Decoded<ErrorBody> d = ApiJson.decode(r.body(), ErrorBody.class);
                String why = d instanceof ApiJson.Decoded.Body<ErrorBody> b ? b.value().line() : null;
                return new Served(r.statusCode(), -1, null, false, why, state, latest);
            }
            VerifyResult v = verifier.verifyAs(name, r.body());
            if (v instanceof VerifyResult.Verified ok) {
                long header = r.headers().firstValueAsLong("X-Knowngood-Version").orElse(-1);
                boolean consistent = header == ok.bundle().version();
                return new Served(200, ok.bundle().version(), ok.bundle().manifestDigest(), consistent,
                        consistent ? null : "X-Knowngood-Version " + header + " but body is " + ok.bundle().version(), state, latest);
            }
            return new Served(200, -1, null, false, ((VerifyResult.Rejected) v).reason().detail(), state, latest);
        } catch (IOException e) {
            return new Served(-1, -1, null, false, e.getClass().getSimpleName());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Served(-1, -1, null, false, "interrupted");
        }
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

    /** Sends a signal to one node; an interrupt is kept, an I/O failure is thrown unchecked. */
    public static void signal(NodeProcess n, String sig) {
        try {
            n.signal(sig);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
