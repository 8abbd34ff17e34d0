package io.knowngood.api;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Admin {@code GET /v1/cluster}: this node, its mesh state, and every member in view with the
 * versions it holds.
 *
 * @param self this node's id
 * @param state STARTING, ALONE, CLUSTERED, PARTITIONED or STOPPED (kept a string: a newer node may add states)
 * @param coordinator the coordinator's id, or null while there is none
 * @param lastContact ISO-8601, or {@code never} (see {@link LastContact})
 * @param expired names this node serves past their manifest's {@code expires} (still served: the last known good)
 */
public record ClusterView(String self, String state, String coordinator, boolean partitioned, boolean inTouch,
                          String lastContact, List<Member> members, List<String> expired) {

    public ClusterView {
        Objects.requireNonNull(self, "self");
        state = state == null ? "UNKNOWN" : state;
        lastContact = lastContact == null ? LastContact.NEVER : lastContact;
        members = members == null ? List.of() : List.copyOf(members);
        expired = expired == null ? List.of() : List.copyOf(expired);
    }

    /** A view without expiry (a node older than expiry says nothing about it). */
    public ClusterView(String self, String state, String coordinator, boolean partitioned, boolean inTouch,
                       String lastContact, List<Member> members) {
        this(self, state, coordinator, partitioned, inTouch, lastContact, members, List.of());
    }

    public Optional<String> coordinatorId() {
        return Optional.ofNullable(coordinator);
    }

    /**
     * A member of the view.
     *
     * @param bundles name to the version it holds, sorted by name
     */
    public record Member(String id, String address, boolean self, Map<String, Held> bundles) {
        public Member {
            Objects.requireNonNull(id, "id");
            address = address == null ? "" : address;
            bundles = bundles == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(bundles));
        }
    }

    /** One version a member holds. */
    public record Held(long version, String manifestDigest) {
        public Held {
            manifestDigest = manifestDigest == null ? "" : manifestDigest;
        }
    }
}
