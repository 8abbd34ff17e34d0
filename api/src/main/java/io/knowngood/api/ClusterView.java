package io.knowngood.api;

import com.fasterxml.jackson.annotation.JsonInclude;
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
 * @param site this mesh's site name, or null when the mesh is not one of several sites
 * @param sites the other sites, online or offline, with their last contact (empty without sites, and then left out
 *              of the JSON like {@code site}: a mesh without sites reads as before)
 * @param revocationList the mesh CA's revocation list this node has in force ({@code crl.pem} in its
 *              {@code --cluster-tls-dir}); null, and left out of the JSON, without mesh TLS
 * @param trustedKeys the key ids (lower-case hex, sorted) of the publisher keys this node trusts
 *              ({@code --trust-key}); null, and left out of the JSON, from a node older than this field
 */
public record ClusterView(String self, String state, String coordinator, boolean partitioned, boolean inTouch,
                          String lastContact, List<Member> members, List<String> expired, String site,
                          @JsonInclude(JsonInclude.Include.NON_EMPTY) List<Site> sites,
                          @JsonInclude(JsonInclude.Include.NON_NULL) RevocationList revocationList,
                          @JsonInclude(JsonInclude.Include.NON_NULL) List<String> trustedKeys) {

    public ClusterView {
        Objects.requireNonNull(self, "self");
        state = state == null ? "UNKNOWN" : state;
        lastContact = lastContact == null ? LastContact.NEVER : lastContact;
        members = members == null ? List.of() : List.copyOf(members);
        expired = expired == null ? List.of() : List.copyOf(expired);
        sites = sites == null ? List.of() : List.copyOf(sites);
        trustedKeys = trustedKeys == null ? null : List.copyOf(trustedKeys);
    }

    /** A view that does not say which publisher keys the node trusts (a node older than that). */
    public ClusterView(String self, String state, String coordinator, boolean partitioned, boolean inTouch,
                       String lastContact, List<Member> members, List<String> expired, String site, List<Site> sites,
                       RevocationList revocationList) {
        this(self, state, coordinator, partitioned, inTouch, lastContact, members, expired, site, sites, revocationList, null);
    }

    /** A view without a revocation list (no mesh TLS, or a node older than the list). */
    public ClusterView(String self, String state, String coordinator, boolean partitioned, boolean inTouch,
                       String lastContact, List<Member> members, List<String> expired, String site, List<Site> sites) {
        this(self, state, coordinator, partitioned, inTouch, lastContact, members, expired, site, sites, null);
    }

    /** A view without sites (a node older than sites says nothing about them). */
    public ClusterView(String self, String state, String coordinator, boolean partitioned, boolean inTouch,
                       String lastContact, List<Member> members, List<String> expired) {
        this(self, state, coordinator, partitioned, inTouch, lastContact, members, expired, null, List.of());
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
     * @param silent in this node's view, but heard nothing from within the failure timeout: cut off from this
     *               node and not yet excluded (the node's view then reads partitioned); left out of the JSON
     *               when false, so a member heard from reads as before
     * @param revocationList with mesh TLS: the number of the mesh CA's revocation list the member has in force, as
     *               it shares it through the mesh (0: none); left out without mesh TLS, or while this node has no
     *               valid record of it
     * @param trustedKeys the key ids of the publisher keys the member trusts, as it shares them through the mesh;
     *               null, and left out, while this node has no valid record of it (a member older than this field)
     */
    public record Member(String id, String address, boolean self, Map<String, Held> bundles,
                         @JsonInclude(JsonInclude.Include.NON_DEFAULT) boolean silent,
                         @JsonInclude(JsonInclude.Include.NON_NULL) Long revocationList,
                         @JsonInclude(JsonInclude.Include.NON_NULL) List<String> trustedKeys) {
        public Member {
            Objects.requireNonNull(id, "id");
            address = address == null ? "" : address;
            bundles = bundles == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(bundles));
            trustedKeys = trustedKeys == null ? null : List.copyOf(trustedKeys);
        }

        /** A member whose trusted publisher keys are not known here. */
        public Member(String id, String address, boolean self, Map<String, Held> bundles, boolean silent, Long revocationList) {
            this(id, address, self, bundles, silent, revocationList, null);
        }

        /** A member heard from. */
        public Member(String id, String address, boolean self, Map<String, Held> bundles) {
            this(id, address, self, bundles, false, null);
        }

        /** A member of a mesh without TLS, or one whose revocation list is not known here. */
        public Member(String id, String address, boolean self, Map<String, Held> bundles, boolean silent) {
            this(id, address, self, bundles, silent, null);
        }
    }

    /**
     * Another site as this node knows it: {@code online} while its site master was heard from lately (the
     * node's own record of the bridge, not Infinispan's sites view).
     *
     * @param lastContact ISO-8601, or {@code never} (see {@link LastContact})
     * @param offlineBackups the node's caches ({@code bundles}, {@code records}) whose backup to that site
     *     Infinispan holds offline: what is written to them meanwhile does not go there (bundles are
     *     repaired by cross-site anti-entropy, records pushed whole when the backup is brought online,
     *     within 30 s while the site answers); left out of the JSON when none
     */
    public record Site(String name, boolean online, String lastContact,
                       @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> offlineBackups) {
        public Site {
            Objects.requireNonNull(name, "name");
            lastContact = lastContact == null ? LastContact.NEVER : lastContact;
            offlineBackups = offlineBackups == null ? List.of() : List.copyOf(offlineBackups);
        }

        /** No backup held offline. */
        public Site(String name, boolean online, String lastContact) {
            this(name, online, lastContact, List.of());
        }
    }

    /**
     * The revocation list in force on this node.
     *
     * @param number its CRL number (0: no list)
     * @param revoked how many certificates it names
     * @param thisUpdate when the CA wrote it (ISO-8601), or null without a list
     * @param problem why the {@code crl.pem} there now is not used (the list in force stays), or null
     */
    public record RevocationList(long number, int revoked, String thisUpdate,
                                 @JsonInclude(JsonInclude.Include.NON_NULL) String problem) {}

    /** One version a member holds. */
    public record Held(long version, String manifestDigest) {
        public Held {
            manifestDigest = manifestDigest == null ? "" : manifestDigest;
        }
    }
}
