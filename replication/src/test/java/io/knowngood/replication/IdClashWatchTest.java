package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class IdClashWatchTest {
  private static final long S = 1_000_000_000L;
  private final IdClashWatch<String> watch = new IdClashWatch<>(Duration.ofSeconds(10));
  private final IdClashWatch.Member<String> self = new IdClashWatch.Member<>("uuid-self", "host-1", "10.0.0.2:7800");
  private final IdClashWatch.Member<String> first = new IdClashWatch.Member<>("uuid-first", "host-1", "10.0.0.1:7800");
  private final IdClashWatch.Member<String> later = new IdClashWatch.Member<>("uuid-later", "host-1", "10.0.0.3:7800");
  private final IdClashWatch.Member<String> other = new IdClashWatch.Member<>("uuid-other", "host-2", "10.0.0.4:7800");

  @Test
  void anEarlierMemberWithThisId_isReportedOnce_andLeftForOnlyAfterTheGrace() {
    IdClashWatch.Look<String> look = watch.look(List.of(first, other, self), self, 0);
    assertThat(look.newlySeen()).containsExactly(new IdClashWatch.Clash<>(first, true));
    assertThat(look.leaveFor()).isEmpty();

    look = watch.look(List.of(first, other, self), self, 9 * S);
    assertThat(look.newlySeen()).isEmpty();
    assertThat(look.leaveFor()).isEmpty();

    assertThat(watch.look(List.of(first, other, self), self, 10 * S).leaveFor()).contains(first);
  }

  @Test
  void aLaterMemberWithThisId_isReported_butThisNodeStays() {
    IdClashWatch.Look<String> look = watch.look(List.of(self, other, later), self, 0);
    assertThat(look.newlySeen()).containsExactly(new IdClashWatch.Clash<>(later, false));
    assertThat(watch.look(List.of(self, other, later), self, 60 * S).leaveFor()).isEmpty();
  }

  @Test
  void thisHostsPreviousProcess_atItsOwnAddress_isNoClash() {
    IdClashWatch.Member<String> previous = new IdClashWatch.Member<>("uuid-killed", "host-1", self.physical());
    assertThat(watch.look(List.of(previous, other, self), self, 0).newlySeen()).isEmpty();
    assertThat(watch.look(List.of(previous, other, self), self, 60 * S).leaveFor()).isEmpty();
  }

  @Test
  void anEarlierMemberThatLeavesTheViewWithinTheGrace_startsOverIfItComesBack() {
    watch.look(List.of(first, self), self, 0);
    watch.look(List.of(self), self, 6 * S); // removed by the failure detector: a previous process elsewhere
    IdClashWatch.Look<String> back = watch.look(List.of(first, self), self, 12 * S);
    assertThat(back.newlySeen()).containsExactly(new IdClashWatch.Clash<>(first, true));
    assertThat(back.leaveFor()).isEmpty();
    assertThat(watch.look(List.of(first, self), self, 21 * S).leaveFor()).isEmpty();
    assertThat(watch.look(List.of(first, self), self, 22 * S).leaveFor()).contains(first);
  }

  @Test
  void aMemberWhoseAddressIsNotKnownYet_isLeftForALaterLook() {
    IdClashWatch.Member<String> unknown = new IdClashWatch.Member<>("uuid-first", "host-1", null);
    assertThat(watch.look(List.of(unknown, self), self, 0).newlySeen()).isEmpty();
    assertThat(watch.look(List.of(unknown, self), self, 30 * S).leaveFor()).isEmpty();
    assertThat(watch.look(List.of(first, self), self, 31 * S).newlySeen()).hasSize(1);
  }

  @Test
  void ofTwoEarlierMembers_theEarliestIsNamed() {
    IdClashWatch.Member<String> second = new IdClashWatch.Member<>("uuid-second", "host-1", "10.0.0.5:7800");
    watch.look(List.of(first, second, self), self, 0);
    assertThat(watch.look(List.of(first, second, self), self, 10 * S).leaveFor()).contains(first);
  }

  @Test
  void theGraceMustBePositive() {
    assertThatThrownBy(() -> new IdClashWatch<String>(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
  }
}
