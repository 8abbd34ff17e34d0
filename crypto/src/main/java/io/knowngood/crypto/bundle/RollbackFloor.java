package io.knowngood.crypto.bundle;

import java.util.OptionalLong;

/** Rollback protection: a version is accepted only above the highest one ever accepted for its name. */
public final class RollbackFloor {
    private RollbackFloor() {
    }

    public static VerifyResult check(VerifiedBundle bundle, OptionalLong highestEverAccepted) {
        if (highestEverAccepted.isPresent() && bundle.version() <= highestEverAccepted.getAsLong()) {
            return new VerifyResult.Rejected(new Rejection.Rollback(bundle.name(), highestEverAccepted.getAsLong(), bundle.version()));
        }
        return new VerifyResult.Verified(bundle);
    }
}
