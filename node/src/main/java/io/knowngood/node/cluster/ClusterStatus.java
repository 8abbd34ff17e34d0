package io.knowngood.node.cluster;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The node's view of its mesh, as its endpoints report it.
 *
 * @param state STARTING, ALONE, CLUSTERED, PARTITIONED or STOPPED (the replication contract's MeshState)
 * @param lastContact when this node last heard from a peer; empty if never
 */
public record ClusterStatus(String selfId, String state, List<Member> members, Optional<String> coordinator,
                            boolean partitioned, Optional<Instant> lastContact) {

    /** A member of the current view. */
    public record Member(String id, String address, boolean self) {}

    public ClusterStatus {
        members = List.copyOf(members);
    }

    /** In touch: part of a mesh with at least one peer and not cut off from part of it. */
    public boolean inTouch() {
        return "CLUSTERED".equals(state) && !partitioned;
    }
}
