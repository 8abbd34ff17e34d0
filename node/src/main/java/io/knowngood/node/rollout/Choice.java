package io.knowngood.node.rollout;

import io.knowngood.crypto.bundle.VerifiedBundle;

/**
 * What this host serves for one name: {@code bundle} (null: every version held was reverted), the
 * {@code X-Knowngood-State} it carries ({@code good}, {@code rolling} or {@code fallback}), and the
 * highest version held ({@code X-Knowngood-Latest}) with its digest, by which a cached choice is known
 * to be stale.
 */
public record Choice(VerifiedBundle bundle, String state, long latest, String latestDigest) {

    public static final String GOOD = "good";
    public static final String ROLLING = "rolling";
    public static final String FALLBACK = "fallback";

    /** The choice for a name no rollout concerns: the current version, good. */
    static Choice plain(VerifiedBundle current) {
        return new Choice(current, GOOD, current.version(), current.manifestDigest());
    }

    long servedVersion() {
        return bundle == null ? 0 : bundle.version();
    }
}
