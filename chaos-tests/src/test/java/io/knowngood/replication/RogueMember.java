package io.knowngood.replication;

import io.knowngood.crypto.bundle.BundleVerifier;
import io.knowngood.crypto.bundle.VerifiedBundle;
import io.knowngood.crypto.meshca.NodeCredentials;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An admitted but misbehaving member for the chaos tests: a real mesh member with a certificate from
 * the mesh CA (same stack, same cluster) whose own store accepts nothing, and which writes whatever bytes it likes straight into
 * the replicated cache, bypassing every check. Lives in this package only to reach
 * {@link InfinispanMesh#cache()}; it is test code, never shipped.
 */
public final class RogueMember implements AutoCloseable {
    private final InfinispanMesh mesh;

    public RogueMember(String clusterName, InetSocketAddress bind, List<InetSocketAddress> peers, BundleVerifier verifier,
                       NodeCredentials admitted) {
        MeshConfig config = new MeshConfig("rogue", clusterName, bind, peers, new MeshConfig.Tls(admitted),
                MeshConfig.Timings.forLan());
        this.mesh = new InfinispanMesh(config, verifier, new LocalBundles() {
            @Override
            public Map<String, VersionStamp> digest() {
                return Map.of();
            }

            @Override
            public Optional<VerifiedBundle> highest(String name) {
                return Optional.empty();
            }

            @Override
            public Admission offer(VerifiedBundle bundle, String source) {
                return new Admission.Ignored("rogue keeps nothing");
            }
        }, Clock.systemUTC(), InfinispanMesh.Options.production());
    }

    public void start() {
        mesh.start();
    }

    public boolean clustered() {
        MeshView v = mesh.view();
        return v.members().size() > 1;
    }

    /** Puts raw bytes under a cache key, as a compromised member could. */
    public void write(String key, byte[] value) {
        mesh.cache().put(key, value);
    }

    /** Sets one of its own mesh records (rollout states, counts, controls), as any admitted member can. */
    public MeshRecords.PutResult putRecord(String key, byte[] value) {
        return mesh.records().putOwn(key, value);
    }

    @Override
    public void close() {
        mesh.close();
    }
}
