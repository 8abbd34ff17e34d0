package io.knowngood.node.store;

import java.util.List;

/**
 * The store's own view of its health, for {@code /v1/health} and metrics.
 *
 * @param bundles names with a servable (verified, not retired) version
 * @param errors store errors since start (damaged copies, failed writes, damaged floor file)
 * @param recentProblems the last few problems, newest last, one line each
 * @param behindFloor names whose served version is below the highest ever accepted (the newer copy
 *     was lost or damaged, or the data dir was restored from an older backup); a peer can refill it
 */
public record StoreHealth(int bundles, long errors, List<String> recentProblems, List<BehindFloor> behindFloor) {

    /** A name served below its rollback floor. */
    public record BehindFloor(String name, long held, long floor) {}
}
