package io.knowngood.node.cluster;

import io.knowngood.crypto.bundle.VerifiedBundle;
import io.knowngood.node.store.BundleStore;
import io.knowngood.replication.LocalRecords;
import io.knowngood.replication.MeshRecords;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A mesh of one: publishes are complete when stored locally; the node is never "in touch". */
public final class StandaloneLink implements ClusterLink {

    private final String selfId;
    private final String address;
    private final BundleStore store;
    private final String runningState;
    private final MeshRecords records;
    private volatile String state = "STARTING";

    public StandaloneLink(String selfId, String address, BundleStore store) {
        this(selfId, address, store, "ALONE");
    }

    /** {@code runningState}: ALONE for a node configured standalone, STOPPED for one whose mesh could not be set up. */
    public StandaloneLink(String selfId, String address, BundleStore store, String runningState) {
        this.selfId = selfId;
        this.address = address;
        this.store = store;
        this.runningState = runningState;
        this.records = new LocalRecords(selfId);
    }

    @Override
    public void start() {
        state = runningState;
    }

    @Override
    public Sending sending(VerifiedBundle bundle) {
        return new Sending() {
            @Override
            public boolean send() {
                return false; // a mesh of one: nobody to send to
            }

            @Override
            public PublishResult await() {
                return new PublishResult(1, 1, true);
            }
        };
    }

    @Override
    public MeshRecords records() {
        return records;
    }

    @Override
    public ClusterStatus status() {
        return new ClusterStatus(selfId, state, List.of(new ClusterStatus.Member(selfId, address, true)),
                Optional.of(selfId), false, Optional.empty());
    }

    @Override
    public Map<String, Map<String, Held>> memberDigests() {
        Map<String, Held> mine = new LinkedHashMap<>();
        for (VerifiedBundle b : store.currentAll()) {
            mine.put(b.name(), new Held(b.version(), b.manifestDigest()));
        }
        return Map.of(selfId, mine);
    }

    @Override
    public void close() {
        state = "STOPPED";
    }
}
