package io.knowngood.api;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * Admin {@code GET /v1/health}: the VM health plus recent store problems and the cluster view.
 *
 * @param bundles names with a servable version
 * @param storeErrors store errors since start
 * @param recentProblems the last few store problems, newest last, one line each
 * @param time the node's clock when it answered
 */
public record AdminHealth(boolean serving, int bundles, long storeErrors, List<BehindFloor> behindFloor,
                          List<String> recentProblems, ClusterView cluster, Instant time) {

    public AdminHealth {
        behindFloor = behindFloor == null ? List.of() : List.copyOf(behindFloor);
        recentProblems = recentProblems == null ? List.of() : List.copyOf(recentProblems);
        Objects.requireNonNull(cluster, "cluster");
    }
}
