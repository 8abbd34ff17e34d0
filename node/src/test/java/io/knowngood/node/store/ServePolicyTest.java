package io.knowngood.node.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.crypto.bundle.BundleVerifier;
import io.knowngood.crypto.bundle.Limits;
import io.knowngood.crypto.bundle.TrustedKeys;
import io.knowngood.crypto.bundle.VerifiedBundle;
import io.knowngood.crypto.bundle.VerifyResult;
import io.knowngood.node.TestBundles;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The serve decision alone, with the clock moved by the test. */
class ServePolicyTest {

    private final TestBundles bundles = new TestBundles();
    private final BundleVerifier verifier = new BundleVerifier(TrustedKeys.of(List.of(bundles.key.getPublic())), Limits.defaults());
    private final io.knowngood.replication.MutableClock clock = new io.knowngood.replication.MutableClock(bundles.clock.instant());
    private final ServePolicy policy = new ServePolicy(clock, Duration.ofSeconds(15));
    private final VerifiedBundle web1 = ((VerifyResult.Verified) verifier.verify(bundles.bundle("web", 1, "one"))).bundle();

    private static FloorFile.Entry floor(long version) {
        return new FloorFile.Entry(version, "0".repeat(64));
    }

    @Test
    void atOrAboveTheFloor_orWithNoFloorYet_isServed() {
        assertThat(policy.withheld(web1, null)).isFalse();
        assertThat(policy.withheld(web1, floor(1))).isFalse();
    }

    @Test
    void belowTheFloor_withoutEvidenceOfDamage_isWithheldForGood() {
        clock.now = clock.now.plus(Duration.ofDays(30));
        assertThat(policy.withheld(web1, floor(2))).isTrue();
        assertThat(policy.foundDamaged("web", 2)).isFalse();
    }

    @Test
    void belowTheFloor_afterTheFloorCopyWasFoundDamaged_isServedOnceThePeersHadTheirChance() {
        policy.damaged("web", 2);
        assertThat(policy.foundDamaged("web", 2)).isTrue();
        assertThat(policy.withheld(web1, floor(2))).isTrue();
        clock.now = clock.now.plusSeconds(15);
        assertThat(policy.withheld(web1, floor(2))).isFalse();
    }

    @Test
    void belowTheFloor_whenTheFloorCopyCannotBeLoadedWithThisConfiguration_isServedAtOnce() {
        policy.unloadable("web", 2);
        assertThat(policy.unloadableAt("web", 2)).isTrue();
        assertThat(policy.withheld(web1, floor(2))).isFalse();
        assertThat(policy.withheld(web1, floor(3))).as("an unloadable copy below the floor explains nothing").isTrue();
        assertThat(policy.unloadableAt("other", 2)).isFalse();
    }

    @Test
    void damageToAnOlderVersionThanTheFloor_doesNotExplainAMissingFloorCopy() {
        policy.damaged("web", 2);
        clock.now = clock.now.plusSeconds(60);
        assertThat(policy.withheld(web1, floor(3))).isTrue();
    }

    @Test
    void theEarliestEvidenceOfTheHighestDamagedVersion_startsTheDelay() {
        policy.damaged("web", 2);
        clock.now = clock.now.plusSeconds(10);
        policy.damaged("web", 2); // found again by a scrub: the delay does not start over
        policy.damaged("web", 1); // an older one does not replace it
        clock.now = clock.now.plusSeconds(5);
        assertThat(policy.withheld(web1, floor(2))).isFalse();
    }
}
