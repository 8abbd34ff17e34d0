package io.knowngood.api;

import java.util.List;
import java.util.Objects;

/**
 * VM endpoint {@code GET /v1/health}: 200 while serving, 503 with {@code serving} false while a
 * bundle this node accepted is withheld (below its floor).
 *
 * @param bundles names with a servable version
 * @param expired names whose served version's manifest {@code expires} has passed (still served)
 */
public record VmHealth(boolean serving, String node, int bundles, Cluster cluster, Store store, List<String> expired) {

    public VmHealth {
        Objects.requireNonNull(cluster, "cluster");
        Objects.requireNonNull(store, "store");
        expired = expired == null ? List.of() : List.copyOf(expired);
    }

    /** Before expiry was reported. */
    public VmHealth(boolean serving, String node, int bundles, Cluster cluster, Store store) {
        this(serving, node, bundles, cluster, store, List.of());
    }

    /**
     * The mesh as this node sees it.
     *
     * @param members members in view, self included
     * @param alone no peer in view
     * @param lastContact ISO-8601 to the second, or {@code never} (see {@link LastContact})
     */
    public record Cluster(String state, int members, boolean partitioned, boolean alone, boolean inTouch, String lastContact) {
        public Cluster {
            lastContact = lastContact == null ? LastContact.NEVER : lastContact;
        }
    }

    /** @param errors store errors since start */
    public record Store(long errors, List<BehindFloor> behindFloor) {
        public Store {
            behindFloor = behindFloor == null ? List.of() : List.copyOf(behindFloor);
        }
    }
}
