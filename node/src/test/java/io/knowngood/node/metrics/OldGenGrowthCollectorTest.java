package io.knowngood.node.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.node.MutableClock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * When the node asks the JVM for a full collection: after a young collection grew the old generation and
 * no full collection followed before the next young one, at most once per second. The real collector on
 * JDK 25 and 17 is LauncherHeapOnNewerJdkTest's (chaos-tests).
 */
class OldGenGrowthCollectorTest {

    private static final long MB = 1024 * 1024;
    private final MutableClock clock = new MutableClock(Instant.parse("2026-12-04T13:00:00Z"));
    private final OldGenGrowthCollector collector = new OldGenGrowthCollector(clock, () -> { });

    @Test
    void aGrowthWithoutAFullCollection_isCollectedAtTheNextYoungCollection() {
        assertThat(collector.collected(false, 40 * MB, 42 * MB)).as("the growing young collection").isFalse();
        clock.advance(Duration.ofMillis(10));

        assertThat(collector.collected(false, 42 * MB, 42 * MB)).as("the next young collection").isTrue();
        assertThat(collector.requested()).isEqualTo(1);
        assertThat(collector.collected(false, 42 * MB, 42 * MB)).as("nothing grew since").isFalse();
    }

    @Test
    void aFullCollectionRightAfterTheGrowth_asJdk17Runs_meansNothingToAsk() {
        collector.collected(false, 40 * MB, 42 * MB);
        collector.collected(true, 0, 0);

        assertThat(collector.collected(false, 42 * MB, 42 * MB)).isFalse();
        assertThat(collector.requested()).isZero();
    }

    @Test
    void youngCollectionsThatDoNotGrowTheOldGeneration_neverAsk() {
        for (int i = 0; i < 100; i++) {
            clock.advance(Duration.ofSeconds(1));
            assertThat(collector.collected(false, 40 * MB, 40 * MB)).isFalse();
        }
        assertThat(collector.requested()).isZero();
    }

    @Test
    void atMostOnceASecond_theGrowthInBetweenWaitsForItsTurn() {
        collector.collected(false, 40 * MB, 42 * MB);
        assertThat(collector.collected(false, 42 * MB, 44 * MB)).isTrue();
        clock.advance(Duration.ofMillis(500));

        assertThat(collector.collected(false, 44 * MB, 46 * MB)).as("half a second after the last request").isFalse();
        clock.advance(Duration.ofMillis(500));
        assertThat(collector.collected(false, 46 * MB, 46 * MB)).as("a second after it, the growth is still there").isTrue();
        assertThat(collector.requested()).isEqualTo(2);
    }
}
