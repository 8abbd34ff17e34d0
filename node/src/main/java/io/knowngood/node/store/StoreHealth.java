package io.knowngood.node.store;

import java.util.List;

/**
 * The store's own view of its health, for {@code /v1/health} and metrics.
 *
 * @param bundles names with a servable (verified, not retired, not withheld) version
 * @param errors store errors since start (damaged copies, failed writes, damaged floor file)
 * @param recentProblems the last few problems, newest last, one line each
 * @param behindFloor names whose served version is below the highest ever accepted (the newer copy
 *     was lost or damaged, or the data dir was restored from an older backup: a peer can refill it; or
 *     the newer copy is signed only by a publisher key no longer trusted: only a newer version ends it)
 */
public record StoreHealth(int bundles, long errors, List<String> recentProblems, List<BehindFloor> behindFloor) {

    /** False while some version this node holds is withheld from VMs (below its floor, see BundleStore#servable). */
    public boolean servingAllHeld() {
        return behindFloor.stream().allMatch(b -> b.serving() || b.held() == 0);
    }

    /**
     * A name held below its rollback floor (held 0: no copy at all). {@code serving}: true when the newer copy was found damaged
     * or cannot be loaded with this configuration (the held version is served as last-known-good), false when it is simply
     * missing (an older data dir restored): then the name is withheld until a peer supplies the floor version. {@code cause}:
     * which of these it is ({@code damaged}, {@code not_loadable}, {@code missing}, as {@code io.knowngood.api.BehindFloor}).
     */
    public record BehindFloor(String name, long held, long floor, boolean serving, String cause) {}
}
