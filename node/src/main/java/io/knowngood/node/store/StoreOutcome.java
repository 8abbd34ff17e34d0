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
}
