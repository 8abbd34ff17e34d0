package io.knowngood.node.store;

import io.knowngood.crypto.bundle.Rejection;
import io.knowngood.crypto.bundle.VerifiedBundle;
import java.util.Optional;

/**
 * Whether an offered, already verified bundle may be held, decided before anything is written: not
 * when that exact bundle is already held; not below the durable floor, nor at the floor's version
 * with another digest (exactly the floor version with its recorded digest may come back: a lost copy
 * resupplied by a peer); not unless newer than the version held; and not when holding it would take
 * the archive bytes held in memory past the budget. The decision only; the store acts on it.
 */
final class Admission {
    /** Archive bytes the served versions may take in memory together; 0: no limit. */
    private volatile long budget;

    void limit(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("held-bytes budget must be >= 0: " + bytes);
        }
        budget = bytes;
    }

    long budget() {
        return budget;
    }

    /**
     * Why {@code offered} is not to be held ({@link StoreOutcome.AlreadyHeld}, {@link
     * StoreOutcome.Refused} or {@link StoreOutcome.OverBudget}), or empty to hold it. {@code held} is
     * the version held for its name and {@code floor} that name's floor (either null: none);
     * {@code heldBytes} the archive bytes of every version held.
     */
    Optional<StoreOutcome> refusal(VerifiedBundle offered, VerifiedBundle held, FloorFile.Entry floor, long heldBytes) {
        long v = offered.version();
        if (held != null && held.version() == v && held.manifestDigest().equals(offered.manifestDigest())) {
            return Optional.of(new StoreOutcome.AlreadyHeld(v));
        }
        if (floor != null && (v < floor.version() || (v == floor.version() && !floor.digest().equals(offered.manifestDigest())))) {
            return Optional.of(rollback(offered, floor.version()));
        }
        if (held != null && v <= held.version()) {
            return Optional.of(rollback(offered, held.version()));
        }
        long limit = budget;
        if (limit > 0 && heldBytes - (held == null ? 0 : held.archiveSize()) + offered.archiveSize() > limit) {
            return Optional.of(new StoreOutcome.OverBudget(heldBytes, offered.archiveSize(), limit));
        }
        return Optional.empty();
    }

    private static StoreOutcome.Refused rollback(VerifiedBundle offered, long current) {
        return new StoreOutcome.Refused(new Rejection.Rollback(offered.name(), current, offered.version()));
    }
}
