package io.knowngood.node.cluster;

import io.knowngood.crypto.bundle.BundleVerifier;
import io.knowngood.node.config.ClusterTlsDir;
import io.knowngood.node.config.NodeConfig;
import io.knowngood.node.store.BundleStore;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
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
     * {@code mesh}, once the credentials in the config's {@code --cluster-tls-dir} pass {@link
     * ClusterTlsDir#check}: an unusable directory fails {@link #create} with its cause (Node.start then
     * serves without the mesh and says so), a usable one is logged ("mesh TLS on: ..."). The check runs
     * in {@link #create}, which Node.start calls once the VM endpoint listens: reading two PKCS12 stores
     * (a key derivation of 10,000 rounds each for JDK-made files, and the compiling of SHA-256 it
     * triggers) took 150-250 ms of CPU, on the two cores that open the store and answer the first VM.
     * Without the setting replication warns that the mesh is plaintext.
     */
    static ClusterFactory tlsChecked(ClusterFactory mesh, Clock clock) {
        return (cfg, verifier, store) -> {
            Optional<Path> dir = cfg.clusterTlsDir();
            if (dir.isPresent()) {
                ClusterTlsDir.Check c = ClusterTlsDir.check(dir.get(), Optional.of(cfg.dataDir().resolve(MeshLink.MESH_CRL_FILE)), cfg.nodeId(), clock);
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
