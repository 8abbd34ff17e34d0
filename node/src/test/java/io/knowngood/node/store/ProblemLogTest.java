package io.knowngood.node.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class ProblemLogTest {

    private final List<StoreObserver> observers = new CopyOnWriteArrayList<>();
    private final ProblemLog log = new ProblemLog(Clock.fixed(Instant.parse("2026-11-25T10:00:00Z"), ZoneOffset.UTC), observers);

    @Test
    void everyProblemIsCounted_butOnlyTheLastFewAreKept_oldestDroppedFirst() {
        for (int i = 1; i <= ProblemLog.RECENT + 5; i++) {
            log.record("write_failed", "problem " + i);
        }
        assertThat(log.count()).isEqualTo(ProblemLog.RECENT + 5);
        assertThat(log.recent()).hasSize(ProblemLog.RECENT)
                .first().isEqualTo("2026-11-25T10:00:00Z problem 6");
        assertThat(log.recent()).last().isEqualTo("2026-11-25T10:00:00Z problem " + (ProblemLog.RECENT + 5));
    }

    @Test
    void observersAddedLater_hearLaterProblems_byKind() {
        log.record("read_failed", "before");
        List<String> kinds = new ArrayList<>();
        observers.add(new StoreObserver() {
            @Override
            public void storeError(String kind, String detail) {
                kinds.add(kind + ": " + detail);
            }
        });
        log.record("damaged_copy", "after");
        assertThat(kinds).containsExactly("damaged_copy: after");
    }
}
