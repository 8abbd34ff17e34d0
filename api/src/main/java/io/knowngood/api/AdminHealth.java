package io.knowngood.api;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Admin {@code GET /v1/health}: the VM health plus recent store problems and the cluster view.
 *
 * @param bundles names with a servable version
 * @param storeErrors store errors since start
 * @param recentProblems the last few store problems, newest last, one line each
 * @param time the node's clock when it answered
 * @param pools the node's pools ({@code --pool}): pool name -> VM source prefixes in canonical form
 *     ({@code 192.168.10.0/24}, {@code fd00:10::/64}), sorted by name; empty when none (absent from
 *     older nodes' answers)
 */
public record AdminHealth(boolean serving, int bundles, long storeErrors, List<BehindFloor> behindFloor,
                          List<String> recentProblems, ClusterView cluster, Instant time, Map<String, List<String>> pools) {

    public AdminHealth {
        behindFloor = behindFloor == null ? List.of() : List.copyOf(behindFloor);
        recentProblems = recentProblems == null ? List.of() : List.copyOf(recentProblems);
        Objects.requireNonNull(cluster, "cluster");
        TreeMap<String, List<String>> sorted = new TreeMap<>();
        (pools == null ? Map.<String, List<String>>of() : pools).forEach((k, v) -> sorted.put(k, List.copyOf(v)));
        pools = java.util.Collections.unmodifiableMap(sorted);
    }

    /** Before pools were reported. */
    public AdminHealth(boolean serving, int bundles, long storeErrors, List<BehindFloor> behindFloor,
                       List<String> recentProblems, ClusterView cluster, Instant time) {
        this(serving, bundles, storeErrors, behindFloor, recentProblems, cluster, time, Map.of());
    }
}
