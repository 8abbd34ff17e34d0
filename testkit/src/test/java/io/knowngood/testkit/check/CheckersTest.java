package io.knowngood.testkit.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.testkit.workload.History;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The checkers bite: each one flags a history that breaks its property and passes one that keeps it. */
class CheckersTest {
    private static final Instant T = Instant.parse("2026-11-25T10:00:00Z");

    private static History.Fetch fetch(int second, String node, int status, long version, boolean verified, boolean healthy) {
        return new History.Fetch(T.plusSeconds(second), node, "b", status, version, "d" + version, verified, null, healthy);
    }

    @Test
    void noUnverifiedServed_flagsA200ThatDoesNotVerify() {
        History h = new History();
        h.add(fetch(1, "n1", 200, 1, true, true));
        h.add(fetch(2, "n1", 200, -1, false, true));
        h.add(fetch(3, "n1", 503, -1, false, true));

        assertThat(Checkers.noUnverifiedServed(h)).hasSize(1).first().asString().contains("n1 served b");
    }

    @Test
    void noRegression_flagsAVersionThatGoesDown_perNode() {
        History h = new History();
        h.add(fetch(1, "n1", 200, 3, true, true));
        h.add(fetch(2, "n2", 200, 1, true, true));
        h.add(fetch(3, "n1", 200, 2, true, true));

        assertThat(Checkers.noRegression(h)).containsExactly(T.plusSeconds(3) + " n1/b went from version 3 down to 2");
    }

    @Test
    void availability_flagsAFailureOnlyWhenTheNodeWasUpAndHadServedTheBundle() {
        History h = new History();
        h.add(fetch(1, "n1", 404, -1, false, true));
        h.add(fetch(2, "n1", 200, 1, true, true));
        h.add(fetch(3, "n1", -1, -1, false, false));
        h.add(fetch(4, "n1", 503, -1, false, true));

        assertThat(Checkers.availability(h)).hasSize(1).first().asString().contains("failed with 503");
    }

    @Test
    void aCleanHistory_passesEveryChecker() {
        History h = new History();
        h.add(fetch(1, "n1", 200, 1, true, true));
        h.add(fetch(2, "n1", 200, 2, true, true));

        assertThat(Checkers.noUnverifiedServed(h)).isEmpty();
        assertThat(Checkers.noRegression(h)).isEmpty();
        assertThat(Checkers.availability(h)).isEmpty();
    }
}
