package io.knowngood.node.store;

import io.knowngood.crypto.bundle.Rejection;
import io.knowngood.crypto.bundle.VerifiedBundle;

/** What the store did with an offered (already verified) bundle. */
public sealed interface StoreOutcome {

    /** Written durably; {@code becameCurrent} when it is now the version served. */
    record Stored(VerifiedBundle bundle, boolean becameCurrent) implements StoreOutcome {}

    /** This exact bundle (same version, same manifest digest) is already held: nothing to do. */
    record AlreadyHeld(long version) implements StoreOutcome {}

    /** Not above the durable floor (or the floor's own version with a different digest). */
    record Refused(Rejection.Rollback rollback) implements StoreOutcome {}

    /**
     * Holding it would take the bytes held in memory past the budget (--max-held-bytes): nothing is
     * written and the version served is unchanged. {@code held} and {@code budget} are archive bytes.
     */
    record OverBudget(long held, long wanted, long budget) implements StoreOutcome {
        public String detail() {
            return "holding " + wanted + " more bytes would take the bundles held in memory from " + held
                    + " past the budget of " + budget + " bytes (--max-held-bytes, or a larger heap: KGNODE_HEAP)";
        }
    }
}
