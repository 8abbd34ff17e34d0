package io.knowngood.node;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * When the node asks the JVM for a full collection: after a young collection grew the old generation and
 * no full collection followed before the next young one. The real collector on JDK 25 and 17 is
 * LauncherHeapOnNewerJdkTest's (chaos-tests).
 */
class OldGenGrowthCollectorTest {

    private static final long MB = 1024 * 1024;
    private int collections;
    private final OldGenGrowthCollector collector = new OldGenGrowthCollector(() -> collections++);

    @Test
    void aGrowthWithoutAFullCollection_isCollectedAtTheNextYoungCollection() {
        assertThat(collector.youngCollected(40 * MB, 42 * MB)).as("the growing young collection").isFalse();

        assertThat(collector.youngCollected(42 * MB, 42 * MB)).as("the next young collection").isTrue();
        assertThat(collector.requested()).isEqualTo(1);
        assertThat(collections).isEqualTo(1);
        assertThat(collector.youngCollected(42 * MB, 42 * MB)).as("nothing grew since").isFalse();
    }

    @Test
    void aFullCollectionRightAfterTheGrowth_asJdk17Runs_meansNothingToAsk() {
        collector.youngCollected(40 * MB, 42 * MB);
        collector.fullCollected();

        assertThat(collector.youngCollected(42 * MB, 42 * MB)).isFalse();
        assertThat(collector.requested()).isZero();
        assertThat(collections).isZero();
    }

    @Test
    void youngCollectionsThatDoNotGrowTheOldGeneration_neverAsk() {
        for (int i = 0; i < 100; i++) {
            assertThat(collector.youngCollected(40 * MB, 40 * MB)).isFalse();
        }
        assertThat(collector.requested()).isZero();
    }

    @Test
    void everyYoungCollectionGrowing_asksAtEverySecondOne_theRequestCoveringTheGrowthOfItsOwn() {
        List<Boolean> asked = new ArrayList<>();
        long committed = 40 * MB;
        for (int i = 0; i < 6; i++) {
            asked.add(collector.youngCollected(committed, committed + MB));
            committed += MB;
        }

        assertThat(asked).containsExactly(false, true, false, true, false, true);
        assertThat(collector.requested()).isEqualTo(3);
        assertThat(collections).isEqualTo(3);
    }

    @Test
    void onlyJdk23AndLater_needTheStepPutBack() {
        assertThat(List.of(17, 21, 22, 23, 25)).map(OldGenGrowthCollector::neededOn)
                .containsExactly(false, false, false, true, true);
    }
}
