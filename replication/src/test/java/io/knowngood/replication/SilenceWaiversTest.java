package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jgroups.Address;
import org.jgroups.logging.LogFactory;
import org.jgroups.util.UUID;
import org.junit.jupiter.api.Test;

/** The books of {@link SilenceWaivers} alone: which sends count against a silent member's budget. */
class SilenceWaiversTest {
  private final Address a = UUID.randomUUID();
  private final Address b = UUID.randomUUID();
  private final List<String> calls = new CopyOnWriteArrayList<>();
  private final SilenceWaivers waivers = new SilenceWaivers("test", new SilenceWaivers.Credits() {
    @Override
    public void waive(Address member) {
      calls.add("waive " + (member.equals(a) ? "a" : "b"));
    }

    @Override
    public void restore(Address member) {
      calls.add("restore " + (member.equals(a) ? "a" : "b"));
    }
  }, LogFactory.getLog(SilenceWaiversTest.class));

  @Test
  void unicastsToAnotherMember_doNotSpendTheSilentMembersBudget() {
    waivers.view(List.of(a, b), () -> { });
    waivers.silent(List.of(a));
    waivers.sent(b, (int) SilenceWaivers.MAX_BYTES);
    waivers.sent(b, (int) SilenceWaivers.MAX_BYTES);
    assertThat(waivers.waived()).containsExactly(a);
    assertThat(calls).containsExactly("waive a");
  }

  @Test
  void unicastsToTheSilentMemberAndMulticasts_spendIt() {
    waivers.view(List.of(a, b), () -> { });
    waivers.silent(List.of(a));
    waivers.sent(a, (int) (SilenceWaivers.MAX_BYTES / 2));
    assertThat(waivers.waived()).containsExactly(a);
    waivers.sent(null, (int) (SilenceWaivers.MAX_BYTES / 2));
    assertThat(waivers.waived()).isEmpty();
    assertThat(calls).containsExactly("waive a", "restore a");
  }

  @Test
  void aMemberNotInTheView_isNeverWaived() {
    waivers.view(List.of(b), () -> { });
    waivers.silent(List.of(a));
    assertThat(waivers.waived()).isEmpty();
    assertThat(calls).isEmpty();
  }
}
