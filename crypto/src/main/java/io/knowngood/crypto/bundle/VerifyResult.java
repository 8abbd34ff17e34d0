package io.knowngood.crypto.bundle;

/** The outcome of verifying a bundle: {@link Verified} or {@link Rejected}, never an exception. */
public sealed interface VerifyResult {
    record Verified(VerifiedBundle bundle) implements VerifyResult {
    }

    record Rejected(Rejection reason) implements VerifyResult {
    }

    default boolean isVerified() {
        return this instanceof Verified;
    }
}
