package io.knowngood.node.pools;

import io.knowngood.crypto.bundle.VerifiedBundle;
import io.knowngood.node.store.StoreObserver;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warns once per version held whose manifest names a pool this node does not configure: no VM here
 * is in it, so for those pools the version is served to nobody (a typo in {@code --pool}, or in the
 * publisher's {@code kgctl bundle pack --pool}).
 */
public final class UnknownPools implements StoreObserver {

    private static final Logger LOG = LoggerFactory.getLogger(UnknownPools.class);
    private static final int MAX_REMEMBERED = 10_000;

    private final PoolMap pools;
    private final Set<String> warned = ConcurrentHashMap.newKeySet();

    public UnknownPools(PoolMap pools) {
        this.pools = pools;
    }

    /** The pools {@code bundle} names that this node does not configure. */
    public List<String> unknown(VerifiedBundle bundle) {
        return bundle.manifest().pools().stream().filter(p -> !pools.pools().containsKey(p)).toList();
    }

    /** Checks a version held (at start, or as it is stored); logs it once. */
    public void check(VerifiedBundle bundle) {
        List<String> missing = unknown(bundle);
        if (missing.isEmpty() || warned.size() >= MAX_REMEMBERED || !warned.add(bundle.name() + "@" + bundle.version())) {
            return;
        }
        boolean nobody = missing.size() == bundle.manifest().pools().size();
        LOG.warn("{}@{} names pools not configured on this node: {}; {}", bundle.name(), bundle.version(), missing,
                nobody ? "no VM here is in any of its pools, so it is served to nobody" : "VMs of its other pools still get it");
    }

    @Override
    public void stored(VerifiedBundle bundle, String source, boolean becameCurrent) {
        check(bundle);
    }
}
