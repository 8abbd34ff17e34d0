package io.knowngood.api;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * Admin {@code GET /v1/explain/{name}[?vm=IP]}: what a VM at that source address gets for {@code name}
 * from this node now and why, then every dependency of that answer with its status. {@code kgctl
 * explain} prints it and exits 0 exactly when {@link Vm#verified()} is true.
 *
 * @param node this node's id
 * @param name the bundle name asked about
 * @param vmAddress the VM address asked about, normalised ({@code null}: not given, a VM in no pool)
 * @param pools the pools a VM at that address is in on this node (empty: none)
 * @param vm what that VM gets
 * @param dependencies one entry per peer, site, the last publish, the store, the disk, each certificate,
 *     clock skew per peer and DNS, in that order
 * @param time the node's clock when it answered
 */
public record Explain(String node, String name, String vmAddress, List<String> pools, Vm vm, List<Dependency> dependencies,
                      Instant time) {

    public static final String OK = "ok";
    public static final String DOWN = "down";
    public static final String WARN = "warn";
    public static final String NOT_APPLICABLE = "n/a";

    public Explain {
        Objects.requireNonNull(vm, "vm");
        pools = pools == null ? List.of() : List.copyOf(pools);
        dependencies = dependencies == null ? List.of() : List.copyOf(dependencies);
    }

    /**
     * What the VM gets.
     *
     * @param outcome {@code served}, or why nothing is: {@code no_such_bundle}, {@code hidden_by_pools},
     *     {@code retired}, {@code all_reverted}, {@code behind_floor} (withheld below the rollback floor)
     * @param verified true when a version is served to that VM: every copy the store holds passed
     *     signature and digest checks when it was stored and when it was read back from disk
     * @param reason one sentence: why this outcome
     * @param version the version served (null when none)
     * @param digest its manifest digest (null when none)
     * @param state the rollout state header it is served with: {@code good}, {@code rolling} or
     *     {@code fallback} (null when none)
     * @param latest the newest version this node holds of the name (null when none)
     * @param expires the served version's {@code expires} (RFC 3339; null when it has none)
     * @param expired true once that has passed (the version is still served: expiry is a warning)
     * @param inTouch the freshness header: part of a mesh with a peer and not partitioned
     * @param lastContact when this node last heard from a peer, or {@code never}
     */
    public record Vm(String outcome, boolean verified, String reason, Long version, String digest, String state, Long latest,
                     String expires, boolean expired, boolean inTouch, String lastContact) {

        public static final String SERVED = "served";
        public static final String NO_SUCH_BUNDLE = "no_such_bundle";
        public static final String HIDDEN_BY_POOLS = "hidden_by_pools";
        public static final String RETIRED = "retired";
        public static final String ALL_REVERTED = "all_reverted";
        public static final String BEHIND_FLOOR = "behind_floor";

        public Vm {
            Objects.requireNonNull(outcome, "outcome");
            Objects.requireNonNull(reason, "reason");
        }
    }

    /**
     * One dependency of the answer.
     *
     * @param kind {@code peer}, {@code tls}, {@code id}, {@code site}, {@code publish}, {@code store}, {@code disk},
     *     {@code certificate}, {@code clock} or {@code dns}
     * @param name what it is (a peer's id or address, a certificate's directory, ...)
     * @param status {@code ok}, {@code down}, {@code warn} or {@code n/a}
     * @param detail one line: what was found
     */
    public record Dependency(String kind, String name, String status, String detail) {
        public Dependency {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(status, "status");
            name = name == null ? "" : name;
            detail = detail == null ? "" : detail;
        }
    }
}
