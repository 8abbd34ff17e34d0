package io.knowngood.node.store;

import io.knowngood.crypto.bundle.Rejection;
import io.knowngood.crypto.bundle.VerifiedBundle;

/** Told about every bundle the store accepts and every problem it finds (metrics, long-poll waiters, logs). */
public interface StoreObserver {

    /** A bundle was written durably; {@code becameCurrent} when it is now the version served for its name. */
    default void stored(VerifiedBundle bundle, String source, boolean becameCurrent) {}

    /**
     * A peer's bundle won a same-version tie (lower manifest digest) and replaced the copy served
     * until now, whose digest was {@code replacedDigest}; {@link #stored} was called for it first.
     */
    default void tieReplaced(VerifiedBundle winner, String replacedDigest, String source) {}

    /** An offered bundle was refused by the durable floor. */
    default void refused(VerifiedBundle bundle, String source, Rejection.Rollback why) {}

    /** A copy on disk was found damaged, a write failed, or the floor file was unreadable. {@code kind} is a stable label. */
    default void storeError(String kind, String detail) {}
}
