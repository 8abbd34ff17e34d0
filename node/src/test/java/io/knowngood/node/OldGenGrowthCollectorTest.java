package io.knowngood.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * When the node asks the JVM for a full collection: the old generation grew between two looks and no full
 * collection ran in between. The real collector on JDK 25 and 17 is LauncherHeapOnNewerJdkTest's
 * (chaos-tests).
 */
class OldGenGrowthCollectorTest {

    private static final long MB = 1024 * 1024;
    private int collections;
    private final OldGenGrowthCollector collector = new OldGenGrowthCollector(() -> collections++);

    @Test
    void aGrowthWithoutAFullCollection_isCollectedAtTheNextLook() {
        assertThat(collector.looked(40 * MB, 3)).as("the first look has nothing to compare with").isFalse();

        assertThat(collector.looked(42 * MB, 3)).as("grown, no full collection since").isTrue();
        assertThat(collector.requested()).isEqualTo(1);
        assertThat(collections).isEqualTo(1);
    }

    @Test
    void theCollectionAskedFor_isNotAskedForAgain_whateverItLeft() {
        collector.looked(40 * MB, 3);
        collector.looked(42 * MB, 3);

        assertThat(collector.looked(42 * MB, 4)).as("the full collection ran; what is live stayed").isFalse();
        assertThat(collector.looked(42 * MB, 4)).as("nothing grew since").isFalse();
        assertThat(collector.requested()).isEqualTo(1);
    }

    @Test
    void aFullCollectionBetweenTwoLooks_asJdk17Runs_meansNothingToAsk() {
        collector.looked(40 * MB, 3);

        assertThat(collector.looked(42 * MB, 4)).isFalse();
        assertThat(collector.requested()).isZero();
    }

    @Test
    void anOldGenerationThatDoesNotGrow_isNeverCollected() {
        for (int i = 0; i < 100; i++) {
            assertThat(collector.looked(40 * MB, 3)).isFalse();
        }
        assertThat(collector.requested()).isZero();
    }

    @Test
    void growingAtEveryLook_asksAtMostOncePerLook() {
        List<Boolean> asked = new ArrayList<>();
        long committed = 40 * MB;
        long full = 0;
        for (int i = 0; i < 5; i++) {
            boolean ask = collector.looked(committed, full);
            asked.add(ask);
            full += ask ? 1 : 0; // the collection asked for ran before the next look
            committed += MB;
        }

        assertThat(asked).containsExactly(false, true, false, true, false);
        assertThat(collector.requested()).isEqualTo(2);
    }

    @Test
    void onlyJdk23AndLater_needTheStepPutBack() {
        assertThat(List.of(17, 21, 22, 23, 25)).map(OldGenGrowthCollector::neededOn)
                .containsExactly(false, false, false, true, true);
    }
}
