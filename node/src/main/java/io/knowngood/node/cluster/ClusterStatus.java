package io.knowngood.node.cluster;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The node's view of its mesh, as its endpoints report it.
 *
 * @param state STARTING, ALONE, CLUSTERED, PARTITIONED, DUPLICATE_ID or STOPPED (the replication contract's MeshState)
 * @param lastContact when this node last heard from a peer; empty if never
 * @param site this mesh's site name; empty when it is not one of several sites
 * @param sites the other sites (empty without sites)
 */
public record ClusterStatus(String selfId, String state, List<Member> members, Optional<String> coordinator,
                            boolean partitioned, Optional<Instant> lastContact, Optional<String> site, List<Site> sites) {

    /** A member of the current view; {@code silent}: not heard from within the failure timeout (never this node). */
    public record Member(String id, String address, boolean self, boolean silent) {
        /** A member heard from. */
        public Member(String id, String address, boolean self) {
            this(id, address, self, false);
        }
    }

    /**
     * Another site: online while its site master was heard from lately; when that last was (empty: never);
     * {@code offlineBackups}: this node's caches (bundles, records) whose backup to that site is held
     * offline, so that what is written to them does not go there until it is brought online.
     */
    public record Site(String name, boolean online, Optional<Instant> lastContact, List<String> offlineBackups) {
        public Site {
            offlineBackups = offlineBackups == null ? List.of() : List.copyOf(offlineBackups);
        }

        /** No backup held offline. */
        public Site(String name, boolean online, Optional<Instant> lastContact) {
            this(name, online, lastContact, List.of());
        }
    }

    public ClusterStatus {
        members = List.copyOf(members);
        site = site == null ? Optional.empty() : site;
        sites = sites == null ? List.of() : List.copyOf(sites);
    }

    /** No sites. */
    public ClusterStatus(String selfId, String state, List<Member> members, Optional<String> coordinator,
                         boolean partitioned, Optional<Instant> lastContact) {
        this(selfId, state, members, coordinator, partitioned, lastContact, Optional.empty(), List.of());
    }

    /** In touch: part of a mesh with at least one peer and not cut off from part of it. */
    public boolean inTouch() {
        return "CLUSTERED".equals(state) && !partitioned;
    }
}
