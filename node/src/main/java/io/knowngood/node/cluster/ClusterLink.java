package io.knowngood.node.cluster;

import io.knowngood.crypto.bundle.VerifiedBundle;
import io.knowngood.replication.MeshRecords;
import java.util.Map;

/**
 * The one seam between the node and its mesh. {@link StandaloneLink} is a mesh of one (a node that
 * never reaches a peer serves what it has, forever); {@code MeshLink} adapts replication's {@code Mesh}.
 * The node's endpoints never wait on it to serve.
 */
public interface ClusterLink extends AutoCloseable {

    /** Returns at once; joining and state transfer happen in the background. */
    void start();

    /** Replicates a bundle the node has already verified, rollback-checked and stored. */
    PublishResult publish(VerifiedBundle bundle);

    ClusterStatus status();

    /** The per-member records replicated beside the bundles (rollout states and report counts). */
    MeshRecords records();

    /** memberId -> bundle name -> (version, manifest digest), for GET /v1/cluster and /v1/bundles. */
    Map<String, Map<String, Held>> memberDigests();

    @Override
    void close();

    /** Replication's counters since start (anti-entropy rounds, pulls, repairs, rejections by reason); none without a mesh. */
    default java.util.Optional<io.knowngood.replication.MeshStats> meshStats() {
        return java.util.Optional.empty();
    }

    /** A version held by a member. */
    record Held(long version, String manifestDigest) {}
}
