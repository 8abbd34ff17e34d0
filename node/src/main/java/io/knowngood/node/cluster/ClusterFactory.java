package io.knowngood.node.cluster;

import io.knowngood.crypto.bundle.BundleVerifier;
import io.knowngood.node.config.ClusterTlsDir;
import io.knowngood.node.config.NodeConfig;
import io.knowngood.node.store.BundleStore;
import java.io.IOException;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Builds the node's {@link ClusterLink} once the store is loaded (it is started after the endpoints are up). */
@FunctionalInterface
public interface ClusterFactory {

    ClusterLink create(NodeConfig config, BundleVerifier verifier, BundleStore store) throws Exception;

    /** A mesh of one, whatever the config says about peers. */
    static ClusterFactory standalone() {
        return (config, verifier, store) -> new StandaloneLink(config.nodeId(), config.clusterBind().toString(), store);
    }

    /**
     * {@code mesh}, once the credentials in {@code config}'s {@code --cluster-tls-dir} pass {@link
     * ClusterTlsDir#check}: an unusable directory fails {@link #create} with its cause (Node.start then
     * serves without the mesh and says so), a usable one is logged ("mesh TLS on: ..."). The check
     * starts now on its own thread: reading two PKCS12 stores (~0.1 s) overlaps loading the store
     * instead of delaying the first answer. Without the setting replication warns that the mesh is
     * plaintext.
     */
    static ClusterFactory tlsChecked(NodeConfig config, ClusterFactory mesh, Clock clock) {
        CompletableFuture<ClusterTlsDir.Check> check = config.clusterTlsDir()
                .map(dir -> CompletableFuture.supplyAsync(() -> ClusterTlsDir.check(dir, Optional.of(config.dataDir().resolve(MeshLink.MESH_CRL_FILE)), config.nodeId(), clock), r -> {
                    Thread t = new Thread(r, "kgnode-tls-check");
                    t.setDaemon(true);
                    t.start();
                }))
                .orElse(null);
        return (cfg, verifier, store) -> {
            if (check != null) {
                ClusterTlsDir.Check c = check.join();
                if (c instanceof ClusterTlsDir.Unusable u) {
                    throw new IOException(u.problem());
                }
                ClusterTlsDir.Usable ok = (ClusterTlsDir.Usable) c;
                Logger log = LoggerFactory.getLogger(ClusterFactory.class);
                ok.warnings().forEach(log::warn);
                log.info("mesh TLS on: {}", ok.summary());
            }
            return mesh.create(cfg, verifier, store);
        };
    }
}
