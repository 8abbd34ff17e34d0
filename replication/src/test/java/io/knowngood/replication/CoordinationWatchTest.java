package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CoordinationWatchTest {
  private static final long S = 1_000_000_000L;
  private final CoordinationWatch<String> stuck = new CoordinationWatch<>(Duration.ofSeconds(12));

  @Test
  void aMemberOutsideTheTopologyForTheBound_isStuck_notBefore() {
    assertThat(stuck.stuck(List.of("c", "a", "j"), Set.of("c", "a"), "c", 0)).isEmpty();
    assertThat(stuck.stuck(List.of("c", "a", "j"), Set.of("c", "a"), "c", 11 * S)).isEmpty();
    assertThat(stuck.stuck(List.of("c", "a", "j"), Set.of("c", "a"), "c", 12 * S)).containsExactly("j");
  }

  @Test
  void aJoinThatCompletes_startsOver() {
    stuck.stuck(List.of("c", "j"), Set.of("c"), "c", 0);
    stuck.stuck(List.of("c", "j"), Set.of("c", "j"), "c", 5 * S);
    assertThat(stuck.stuck(List.of("c", "j"), Set.of("c"), "c", 13 * S)).as("out again at 13 s: 0 s of 12").isEmpty();
    assertThat(stuck.stuck(List.of("c", "j"), Set.of("c"), "c", 25 * S)).containsExactly("j");
  }

  @Test
  void aMemberThatStaysOutOfTheViewForTheBound_isForgotten() {
    stuck.stuck(List.of("c", "j"), Set.of("c"), "c", 0);
    stuck.stuck(List.of("c"), Set.of("c"), "c", 6 * S);
    stuck.stuck(List.of("c"), Set.of("c"), "c", 18 * S);
    assertThat(stuck.stuck(List.of("c", "j"), Set.of("c"), "c", 19 * S)).as("back at 19 s: 0 s of 12").isEmpty();
    assertThat(stuck.stuck(List.of("c", "j"), Set.of("c"), "c", 31 * S)).containsExactly("j");
  }

  @Test
  void aJoinerThatGivesUpAndJoinsAgain_keepsItsClock() {
    // two joiners that abandon their starts in turn, each out of the view for a moment at some look,
    // as in the soak of 2026-12-02 (every 10 s, never 12 s in one view)
    stuck.stuck(List.of("c", "a", "b"), Set.of("c"), "c", 0);
    stuck.stuck(List.of("c", "b"), Set.of("c"), "c", 4 * S);
    stuck.stuck(List.of("c", "a"), Set.of("c"), "c", 8 * S);
    assertThat(stuck.stuck(List.of("c", "a", "b"), Set.of("c"), "c", 12 * S)).containsExactly("a", "b");
  }

  @Test
  void self_isNeverStuck_andTheOldestComesFirst() {
    stuck.stuck(List.of("c", "x"), Set.of(), "c", 0);
    stuck.stuck(List.of("c", "x", "y"), Set.of(), "c", 3 * S);
    assertThat(stuck.stuck(List.of("c", "y", "x"), Set.of(), "c", 20 * S)).containsExactly("x", "y");
  }

  @Test
  void reset_forgetsEveryone() {
    stuck.stuck(List.of("c", "j"), Set.of("c"), "c", 0);
    stuck.reset();
    assertThat(stuck.stuck(List.of("c", "j"), Set.of("c"), "c", 12 * S)).isEmpty();
  }

  @Test
  void theBoundMustBePositive() {
    assertThatThrownBy(() -> new CoordinationWatch<String>(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
  }
}
