package io.knowngood.node.cluster;

import io.knowngood.crypto.bundle.BundleVerifier;
import io.knowngood.crypto.bundle.VerifiedBundle;
import io.knowngood.crypto.meshca.RevocationList;
import io.knowngood.node.config.ClusterTlsDir;
import io.knowngood.node.config.IpEndpoint;
import io.knowngood.node.config.NodeConfig;
import io.knowngood.node.store.BundleStore;
import io.knowngood.node.store.StoreOutcome;
import io.knowngood.replication.Admission;
import io.knowngood.replication.LocalBundles;
import io.knowngood.replication.MemberInfo;
import io.knowngood.replication.Mesh;
import io.knowngood.replication.MeshConfig;
import io.knowngood.replication.MeshRecords;
import io.knowngood.replication.MeshView;
import io.knowngood.replication.PublishOutcome;
import io.knowngood.replication.Publishing;
import io.knowngood.replication.VersionStamp;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's mesh: replication's {@link Mesh} over the node's {@link BundleStore}, which it sees as
 * {@link LocalBundles}. Everything replication offers has been verified and rollback-checked by it;
 * the store re-checks its durable floor and writes atomically, and its observers (long-poll
 * waiters, metrics) hear about it like about a publish.
 */
public final class MeshLink implements ClusterLink {

    /** In the data dir: the addresses peers had in the last views (see replication's RememberedPeers). */
    public static final String MESH_PEERS_FILE = "mesh-peers";
    /** In the data dir: the newest mesh revocation list this node has read (see replication's Revocations). */
    public static final String MESH_CRL_FILE = "mesh-crl.pem";

    private static final Logger LOG = LoggerFactory.getLogger(MeshLink.class);

    private final Mesh mesh;
    /** When the mesh certificate in use (checked at creation) expires; empty for a plaintext mesh. */
    private final java.util.Optional<java.time.Instant> certificateNotAfter;

    private MeshLink(Mesh mesh, java.util.Optional<java.time.Instant> certificateNotAfter) {
        this.mesh = mesh;
        this.certificateNotAfter = certificateNotAfter;
    }

    /** The {@link ClusterFactory} for a real mesh. */
    public static ClusterFactory factory(Clock clock) {
        return (config, verifier, store) -> create(config, verifier, store, clock);
    }

    /**
     * The mesh, once the credentials in {@code --cluster-tls-dir} pass {@link ClusterTlsDir#check}: an unusable
     * directory fails with its cause (Node.start then serves without the mesh and says so), a usable one is logged
     * ("mesh TLS on: ...") and its stores, as the check opened them, are the mesh's. This runs once the VM endpoint
     * listens (Node.start): opening two PKCS12 stores (a key derivation of 10,000 rounds each for JDK-made files, and
     * the compiling of SHA-256 it triggers) took 150-250 ms of CPU, on the two cores that open the store and answer
     * the first VM. Without the setting replication warns that the mesh is plaintext.
     */
    static MeshLink create(NodeConfig config, BundleVerifier verifier, BundleStore store, Clock clock) throws IOException {
        MeshConfig.Security security;
        java.util.Optional<java.time.Instant> notAfter = java.util.Optional.empty();
        if (config.clusterTlsDir().isPresent()) {
            Path dir = config.clusterTlsDir().get();
            Path keptList = config.dataDir().resolve(MESH_CRL_FILE);
            ClusterTlsDir.Usable ok = ClusterTlsDir.check(dir, Optional.of(keptList), config.nodeId(), clock).usableOrThrow();
            ok.warnings().forEach(LOG::warn);
            LOG.info("mesh TLS on: {}", ok.summary());
            security = new MeshConfig.Tls(ok.credentials(), dir.resolve(RevocationList.FILE)).keepingNewestListIn(keptList);
            notAfter = java.util.Optional.of(ok.notAfter());
        } else {
            security = new MeshConfig.Plaintext(); // replication warns loudly about it
        }
        MeshConfig.Timings timings = (config.meshTimings() == NodeConfig.MeshTimings.LAN
                ? MeshConfig.Timings.forLan() : MeshConfig.Timings.forLocalTesting()).withPublishTimeout(config.publishTimeout());
        List<InetSocketAddress> peers = config.peers().stream().map(IpEndpoint::socketAddress).collect(Collectors.toList());
        // Peers' addresses from the last views, a discovery hint beside --peers (readdressing without DNS).
        MeshConfig meshConfig = new MeshConfig(config.nodeId(), config.clusterName(), config.clusterBind().socketAddress(),
                peers, security, timings).withPeersFile(config.dataDir().resolve(MESH_PEERS_FILE));
        if (config.site().isPresent()) {
            NodeConfig.Site s = config.site().get();
            meshConfig = meshConfig.withSite(new MeshConfig.Site(s.name(), s.others(), s.bridge().map(IpEndpoint::socketAddress),
                    s.peers().stream().map(IpEndpoint::socketAddress).collect(Collectors.toList())));
        }
        return new MeshLink(Mesh.create(meshConfig, verifier, new StoreAsLocalBundles(store), clock), notAfter);
    }

    @Override
    public void start() {
        mesh.start();
    }

    @Override
    public Sending sending(VerifiedBundle bundle) {
        return new Sending() {
            private Publishing sent;

            @Override
            public synchronized boolean send() {
                if (sent == null) {
                    sent = mesh.send(bundle);
                }
                return sent.sent();
            }

            @Override
            public PublishResult await() {
                send();
                PublishOutcome o = mesh.awaitHolders(sent);
                return new PublishResult(o.membersHolding(), o.membersInView(), o.complete());
            }
        };
    }

    @Override
    public MeshRecords records() {
        return mesh.records();
    }

    @Override
    public ClusterStatus status() {
        MeshView v = mesh.view();
        List<ClusterStatus.Member> members = v.members().stream()
                .map((MemberInfo m) -> new ClusterStatus.Member(m.id(), m.address(), m.self(), m.silent()))
                .collect(Collectors.toList());
        List<ClusterStatus.Site> sites = mesh.sites().stream()
                .map(s -> new ClusterStatus.Site(s.name(), s.online(), s.lastContact(), s.offlineBackups()))
                .collect(Collectors.toList());
        return new ClusterStatus(v.selfId(), v.state().name(), members, v.coordinator(), v.partitioned(), v.lastContact(),
                mesh.site(), sites);
    }

    @Override
    public Map<String, Map<String, Held>> memberDigests() {
        Map<String, Map<String, Held>> out = new LinkedHashMap<>();
        mesh.memberDigests().forEach((member, stamps) -> {
            Map<String, Held> m = new LinkedHashMap<>();
            stamps.forEach((name, s) -> m.put(name, new Held(s.version(), s.manifestDigest())));
            out.put(member, m);
        });
        return out;
    }

    @Override
    public java.util.Optional<java.time.Instant> certificateNotAfter() {
        return certificateNotAfter;
    }

    @Override
    public java.util.Optional<io.knowngood.replication.MeshStats> meshStats() {
        return java.util.Optional.of(mesh.stats());
    }

    @Override
    public java.util.List<io.knowngood.replication.TlsRefusals.Refusal> tlsRefusals() {
        return mesh.tlsRefusals();
    }

    @Override
    public java.util.List<io.knowngood.replication.IdClashes.Clash> idClashes() {
        return mesh.idClashes();
    }

    @Override
    public void close() {
        mesh.close();
    }

    /** The store as replication's contract sees it. */
    static final class StoreAsLocalBundles implements LocalBundles {
        private final BundleStore store;

        StoreAsLocalBundles(BundleStore store) {
            this.store = store;
        }

        @Override
        public Map<String, VersionStamp> digest() {
            Map<String, VersionStamp> out = new LinkedHashMap<>();
            for (VerifiedBundle b : store.currentAll()) {
                out.put(b.name(), new VersionStamp(b.version(), b.manifestDigest()));
            }
            return out;
        }

        @Override
        public Optional<VerifiedBundle> highest(String name) {
            return store.current(name);
        }

        @Override
        public Admission offer(VerifiedBundle bundle, String source) {
            try {
                StoreOutcome o = store.admit(bundle, BundleStore.PEER + source);
                if (o instanceof StoreOutcome.Stored || o instanceof StoreOutcome.AlreadyHeld) {
                    return new Admission.Stored(bundle.version());
                }
                if (o instanceof StoreOutcome.OverBudget over) {
                    return new Admission.Ignored(over.detail());
                }
                StoreOutcome.Refused r = (StoreOutcome.Refused) o;
                return new Admission.Ignored(r.rollback().detail());
            } catch (IOException e) {
                return new Admission.Ignored("store write failed: " + e.getMessage());
            }
        }
    }
}
