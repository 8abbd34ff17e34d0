package io.knowngood.node.cluster;

import io.knowngood.crypto.bundle.BundleVerifier;
import io.knowngood.node.config.NodeConfig;
import io.knowngood.node.store.BundleStore;

/** Builds the node's {@link ClusterLink} once the store is loaded (it is started after the endpoints are up). */
@FunctionalInterface
public interface ClusterFactory {

    ClusterLink create(NodeConfig config, BundleVerifier verifier, BundleStore store) throws Exception;

    /** A mesh of one, whatever the config says about peers. */
    static ClusterFactory standalone() {
        return (config, verifier, store) -> new StandaloneLink(config.nodeId(), config.clusterBind().toString(), store);
    }
}
