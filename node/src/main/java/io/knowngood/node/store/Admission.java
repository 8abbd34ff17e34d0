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
 *
 * <p>One exception to "newer only", for bundles from peers: two different bundles signed with the
 * same version (two seeders on both sides of a split) are a tie, and the mesh's deterministic
 * winner is the one with the lower manifest digest ({@code VersionStamp} order). So a peer's bundle
 * of the held version (and of the floor's version) with a lower manifest digest is admitted and
 * replaces the held copy. Never a lower version, never a higher digest: the floor stays a floor.
 * A local publish of a same-version, different bundle stays refused (the publisher's mistake is
 * reported to the publisher, who should publish version + 1).
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
     * {@code heldBytes} the archive bytes of every version held; {@code tieMayWin} whether a
     * same-version bundle with a lower manifest digest may replace the held one (from peers only).
     */
    Optional<StoreOutcome> refusal(VerifiedBundle offered, VerifiedBundle held, FloorFile.Entry floor, long heldBytes,
                                   boolean tieMayWin) {
        long v = offered.version();
        String digest = offered.manifestDigest();
        if (held != null && held.version() == v && held.manifestDigest().equals(digest)) {
            return Optional.of(new StoreOutcome.AlreadyHeld(v));
        }
        boolean winsFloorTie = floor != null && tieMayWin && v == floor.version() && winsTie(digest, floor.digest());
        if (floor != null && (v < floor.version() || (v == floor.version() && !floor.digest().equals(digest) && !winsFloorTie))) {
            return Optional.of(rollback(offered, floor.version()));
        }
        boolean winsHeldTie = held != null && tieMayWin && v == held.version() && winsTie(digest, held.manifestDigest());
        if (held != null && v <= held.version() && !winsHeldTie) {
            return Optional.of(rollback(offered, held.version()));
        }
        long limit = budget;
        if (limit > 0 && heldBytes - (held == null ? 0 : held.archiveSize()) + offered.archiveSize() > limit) {
            return Optional.of(new StoreOutcome.OverBudget(heldBytes, offered.archiveSize(), limit));
        }
        return Optional.empty();
    }

    /** True if {@code replaces} is the winner of a same-version tie with {@code other}: the lower manifest digest. */
    static boolean winsTie(String replaces, String other) {
        return replaces.compareTo(other) < 0;
    }

    private static StoreOutcome.Refused rollback(VerifiedBundle offered, long current) {
        return new StoreOutcome.Refused(new Rejection.Rollback(offered.name(), current, offered.version()));
    }
}
