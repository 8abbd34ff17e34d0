package io.knowngood.testkit.check;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.testkit.workload.History;
import java.time.Instant;
import java.util.Set;
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

    private static History.Fetch served(int second, String node, long version, String state) {
        return new History.Fetch(T.plusSeconds(second), node, "b", 200, version, "d" + version, true, null, true, state, 3);
    }

    /** v1 good everywhere; v2 and v3 reverted with only n1 (the canary) in their waves. */
    private static History rolledBack() {
        History h = new History();
        h.add(served(1, "n1", 1, "good"));
        h.add(served(1, "n2", 1, "good"));
        h.add(served(2, "n1", 2, "rolling"));
        h.add(served(2, "n2", 1, "fallback"));
        h.add(served(3, "n1", 1, "fallback"));
        h.add(served(4, "n1", 3, "rolling"));
        h.add(served(5, "n1", 1, "fallback"));
        h.add(new History.RolloutEnd("b", 2, "reverted", Set.of("n1")));
        h.add(new History.RolloutEnd("b", 3, "reverted", Set.of("n1")));
        return h;
    }

    @Test
    void noRegression_allowsAFallbackFromRevertedVersionsToTheLastGood() {
        History h = rolledBack();

        assertThat(Checkers.noRegression(h)).isEmpty();
        assertThat(Checkers.revertedServedOnlyInItsWaves(h)).isEmpty();
    }

    @Test
    void noRegression_flagsADowngradeNotSaidToBeAFallback() {
        History h = rolledBack();
        h.add(served(6, "n1", 3, "rolling"));
        h.add(served(7, "n1", 1, "good"));

        assertThat(Checkers.noRegression(h)).containsExactly(T.plusSeconds(7) + " n1/b went from version 3 down to 1 (state good, not fallback)");
    }

    @Test
    void noRegression_flagsAFallbackFromAVersionNotKnownReverted() {
        History h = new History();
        h.add(served(1, "n1", 1, "good"));
        h.add(served(2, "n1", 2, "rolling"));
        h.add(served(3, "n1", 1, "fallback"));
        h.add(new History.RolloutEnd("b", 2, "rolling", Set.of("n1")));

        assertThat(Checkers.noRegression(h)).singleElement().asString()
                .contains("went from version 2 down to 1").contains("version 2 served here before is not known reverted");
    }

    @Test
    void noRegression_flagsAFallbackBelowTheHighestVersionEverServedAsGood() {
        History h = new History();
        h.add(served(1, "n1", 1, "good"));
        h.add(served(2, "n2", 2, "good"));
        h.add(served(3, "n1", 3, "rolling"));
        h.add(served(4, "n1", 1, "fallback"));
        h.add(new History.RolloutEnd("b", 3, "reverted", Set.of("n1")));

        assertThat(Checkers.noRegression(h)).singleElement().asString()
                .contains("went from version 3 down to 1").contains("below version 2, the highest ever served as good");
    }

    @Test
    void revertedServedOnlyInItsWaves_flagsANodeOutsideTheWavesThatServedIt() {
        History h = rolledBack();
        h.add(served(6, "n2", 3, "rolling"));

        assertThat(Checkers.revertedServedOnlyInItsWaves(h))
                .containsExactly(T.plusSeconds(6) + " n2 served b version 3, which was reverted having reached only [n1]");
    }

    @Test
    void revertedServedOnlyInItsWaves_ignoresVersionsThatWereNotReverted() {
        History h = new History();
        h.add(served(1, "n2", 4, "good"));
        h.add(new History.RolloutEnd("b", 4, "good", Set.of("n1")));

        assertThat(Checkers.revertedServedOnlyInItsWaves(h)).isEmpty();
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
