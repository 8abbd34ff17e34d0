package io.knowngood.node.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.knowngood.crypto.bundle.BundleVerifier;
import io.knowngood.crypto.bundle.Limits;
import io.knowngood.crypto.bundle.Rejection;
import io.knowngood.crypto.bundle.TrustedKeys;
import io.knowngood.crypto.bundle.VerifiedBundle;
import io.knowngood.crypto.bundle.VerifyResult;
import io.knowngood.node.TestBundles;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The admission decision alone: no disk, no store. */
class AdmissionTest {

    private final TestBundles bundles = new TestBundles();
    private final BundleVerifier verifier = new BundleVerifier(TrustedKeys.of(List.of(bundles.key.getPublic())), Limits.defaults());
    private final Admission admission = new Admission();

    private VerifiedBundle web(long version, String content) {
        return ((VerifyResult.Verified) verifier.verify(bundles.bundle("web", version, content))).bundle();
    }

    private static FloorFile.Entry floorOf(VerifiedBundle b) {
        return new FloorFile.Entry(b.version(), b.manifestDigest());
    }

    @Test
    void aNewerVersion_isAdmitted_andSoIsTheFirst() {
        VerifiedBundle one = web(1, "one");
        assertThat(admission.refusal(one, null, null, 0, false)).isEmpty();
        assertThat(admission.refusal(web(2, "two"), one, floorOf(one), one.archiveSize(), false)).isEmpty();
    }

    @Test
    void theExactBundleHeld_isAlreadyHeld() {
        VerifiedBundle two = web(2, "two");
        assertThat(admission.refusal(web(2, "two"), two, floorOf(two), two.archiveSize(), false)).contains(new StoreOutcome.AlreadyHeld(2));
    }

    @Test
    void notNewerThanHeld_isARollback_evenWithoutAFloor() {
        VerifiedBundle two = web(2, "two");
        assertThat(admission.refusal(web(1, "one"), two, null, 0, false))
                .contains(new StoreOutcome.Refused(new Rejection.Rollback("web", 2, 1)));
        assertThat(admission.refusal(web(2, "other"), two, null, 0, false))
                .contains(new StoreOutcome.Refused(new Rejection.Rollback("web", 2, 2)));
    }

    @Test
    void theFloorVersion_comesBackOnlyWithItsRecordedDigest_andNothingBelowIt() {
        VerifiedBundle one = web(1, "one");
        VerifiedBundle two = web(2, "two");
        assertThat(admission.refusal(web(2, "two"), one, floorOf(two), 0, false)).isEmpty();
        assertThat(admission.refusal(web(2, "forged"), one, floorOf(two), 0, false))
                .contains(new StoreOutcome.Refused(new Rejection.Rollback("web", 2, 2)));
        assertThat(admission.refusal(web(1, "one"), null, floorOf(two), 0, false))
                .contains(new StoreOutcome.Refused(new Rejection.Rollback("web", 2, 1)));
    }

    @Test
    void aTie_fromAPeer_isAdmittedOnlyForTheLowerDigest_atTheHeldAndAtTheFloorVersion() {
        VerifiedBundle x = web(2, "left");
        VerifiedBundle y = web(2, "right");
        VerifiedBundle lower = x.manifestDigest().compareTo(y.manifestDigest()) < 0 ? x : y;
        VerifiedBundle higher = lower == x ? y : x;
        VerifiedBundle one = web(1, "one");

        assertThat(admission.refusal(lower, higher, floorOf(higher), 0, true)).isEmpty();
        assertThat(admission.refusal(lower, one, floorOf(higher), 0, true)).isEmpty();
        assertThat(admission.refusal(higher, lower, floorOf(lower), 0, true))
                .contains(new StoreOutcome.Refused(new Rejection.Rollback("web", 2, 2)));
        assertThat(admission.refusal(higher, one, floorOf(lower), 0, true))
                .contains(new StoreOutcome.Refused(new Rejection.Rollback("web", 2, 2)));
        assertThat(admission.refusal(lower, higher, floorOf(higher), 0, false))
                .contains(new StoreOutcome.Refused(new Rejection.Rollback("web", 2, 2)));
        assertThat(admission.refusal(one, higher, floorOf(higher), 0, true))
                .contains(new StoreOutcome.Refused(new Rejection.Rollback("web", 2, 1)));
    }

    @Test
    void theBudget_countsTheVersionReplaced_asFreed() {
        VerifiedBundle one = web(1, "one");
        VerifiedBundle two = web(2, "two");
        long otherNames = 1000;
        admission.limit(otherNames + two.archiveSize());
        assertThat(admission.refusal(two, one, floorOf(one), otherNames + one.archiveSize(), false)).isEmpty();
        assertThat(admission.refusal(two, null, null, otherNames + one.archiveSize(), false))
                .contains(new StoreOutcome.OverBudget(otherNames + one.archiveSize(), two.archiveSize(), otherNames + two.archiveSize()));
        admission.limit(0);
        assertThat(admission.refusal(two, null, null, Long.MAX_VALUE / 2, false)).isEmpty();
    }

    @Test
    void aNegativeBudget_isABug() {
        assertThatThrownBy(() -> admission.limit(-1)).isInstanceOf(IllegalArgumentException.class);
    }
}
