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

    /**
     * A publish in two halves, so the mesh hears of a bundle while this node's copy becomes durable:
     * {@link Sending#send} once the store admitted it and wrote its bytes (the store's {@code admitted}
     * step), {@link Sending#await} once it is stored.
     */
    Sending sending(VerifiedBundle bundle);

    /** One publish under way; {@link #await} without {@link #send} sends first. */
    interface Sending {
        /**
         * Sends the bundle to the members at once, without waiting for them; a second call sends
         * nothing. Returns whether it left this node (not for a mesh of one, nor before the mesh connected).
         */
        boolean send();

        /** Waits, up to the publish timeout after the send, until every member in view holds it. */
        PublishResult await();
    }

    ClusterStatus status();

    /** The per-member records replicated beside the bundles (rollout states and report counts). */
    MeshRecords records();

    /** memberId -> bundle name -> (version, manifest digest), for GET /v1/cluster and /v1/bundles. */
    Map<String, Map<String, Held>> memberDigests();

    /**
     * Bundle names that some other member in view holds at a higher version than this node, or that this
     * node lacks, as the members' last digests say. Anti-entropy closes such a gap within seconds; one
     * that lasts means this node cannot take the newer version (a key it does not trust, its budget, its disk).
     */
    default int namesBehindPeers() {
        Map<String, Map<String, Held>> all = memberDigests();
        String self = status().selfId();
        Map<String, Held> mine = all.getOrDefault(self, Map.of());
        java.util.Set<String> behind = new java.util.HashSet<>();
        all.forEach((member, held) -> {
            if (!member.equals(self)) {
                held.forEach((name, h) -> {
                    Held own = mine.get(name);
                    if (own == null || own.version() < h.version()) {
                        behind.add(name);
                    }
                });
            }
        });
        return behind.size();
    }

    @Override
    void close();

    /** Replication's counters since start (anti-entropy rounds, pulls, repairs, rejections by reason); none without a mesh. */
    default java.util.Optional<io.knowngood.replication.MeshStats> meshStats() {
        return java.util.Optional.empty();
    }

    /** When the mesh certificate this node uses expires (read at start); none without a TLS mesh. */
    default java.util.Optional<java.time.Instant> certificateNotAfter() {
        return java.util.Optional.empty();
    }

    /** The latest failed mesh TLS handshake with each address, most recent first; none without a TLS mesh. */
    default java.util.List<io.knowngood.replication.TlsRefusals.Refusal> tlsRefusals() {
        return java.util.List.of();
    }

    /** The latest member seen with this node's id at another address, per address, most recent first; none without a mesh. */
    default java.util.List<io.knowngood.replication.IdClashes.Clash> idClashes() {
        return java.util.List.of();
    }

    /** A version held by a member. */
    record Held(long version, String manifestDigest) {}
}
