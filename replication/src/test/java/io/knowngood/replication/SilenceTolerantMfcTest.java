package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.jgroups.Address;
import org.jgroups.BytesMessage;
import org.jgroups.Event;
import org.jgroups.Message;
import org.jgroups.View;
import org.jgroups.stack.Protocol;
import org.jgroups.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link SilenceTolerantMfc} on its own, above a protocol that records what passes. Messages carry
 * DONT_BLOCK, so one that MFC would wait for is dropped instead and the test can tell.
 */
class SilenceTolerantMfcTest {
  private static final long CREDITS = 10_000;
  private static final byte[] PAYLOAD = new byte[8000];

  private final Address a = UUID.randomUUID();
  private final Address self = UUID.randomUUID();
  private final Address c = UUID.randomUUID();
  private final List<Message> passed = new ArrayList<>();
  private SilenceTolerantMfc mfc;

  @BeforeEach
  void stack() throws Exception {
    mfc = new SilenceTolerantMfc();
    mfc.setValue("max_credits", CREDITS);
    mfc.setValue("min_threshold", 0.4);
    mfc.init();
    mfc.setDownProtocol(new Protocol() {
      @Override
      public Object down(Message msg) {
        if (msg.getHeader(mfc.getId()) == null) { // not one of MFC's own credit requests
          passed.add(msg);
        }
        return null;
      }

      @Override
      public Object down(Event evt) {
        return null;
      }
    });
    view(1, a, self, c);
  }

  @Test
  void aMemberThatSendsNoCredits_holdsMulticastsOnceTheyAreSpent() {
    assertThat(multicast(4000)).isTrue();
    assertThat(multicast(4000)).isTrue();
    acknowledgedByOthers();
    assertThat(multicast(4000)).as("a has acknowledged nothing: plain MFC waits for it").isFalse();
  }

  @Test
  void aSilentMember_isNotWaitedFor() {
    multicast(8000);
    mfc.silent(List.of(a));
    acknowledgedByOthers();
    assertThat(multicast(4000)).isTrue();
    assertThat(mfc.waived()).containsExactly(a);
  }

  @Test
  void aMemberHeardAgain_countsAgainWithFullCredits() {
    multicast(8000);
    mfc.silent(List.of(a));
    mfc.heard(a);
    assertThat(mfc.waived()).isEmpty();
    acknowledgedByOthers();
    assertThat(multicast(8000)).as("a starts again from full credits").isTrue();
    acknowledgedByOthers();
    assertThat(multicast(4000)).as("and then is waited for").isFalse();
  }

  @Test
  void aMemberOutsideTheView_isIgnored_andOneThatLeavesIsForgotten() {
    Address stranger = UUID.randomUUID();
    mfc.silent(List.of(stranger));
    assertThat(mfc.waived()).isEmpty();

    mfc.silent(List.of(a));
    view(2, self, c);
    assertThat(mfc.waived()).isEmpty();
    view(3, a, self, c); // merged back: a counts from full credits, not waived
    assertThat(mfc.waived()).isEmpty();
    assertThat(multicast(8000)).isTrue();
    acknowledgedByOthers();
    assertThat(multicast(4000)).isFalse();
  }

  @Test
  void aSilenceIsWaivedUpToItsBudget_thenWaitedForUntilHeard() {
    mfc.silent(List.of(a));
    int chunk = 8000; // MFC passes no message larger than its credits (FRAG4 sees to that in the stack)
    long sent = 0;
    while (sent + chunk < SilenceWaivers.MAX_BYTES) {
      acknowledgedByOthers();
      assertThat(multicast(chunk)).isTrue();
      sent += chunk;
    }
    assertThat(mfc.waived()).containsExactly(a);
    acknowledgedByOthers();
    assertThat(multicast(chunk)).as("the message that crosses the budget still passes").isTrue();
    assertThat(mfc.waived()).as("a counts again, from full credits less that message").isEmpty();
    acknowledgedByOthers();
    assertThat(multicast(4000)).as("past the budget a is waited for").isFalse();
    mfc.silent(List.of(a));
    assertThat(mfc.waived()).as("the same silence is not waived twice").isEmpty();

    mfc.heard(a);
    mfc.silent(List.of(a));
    assertThat(mfc.waived()).as("a new silence has a new budget").containsExactly(a);
  }

  /** This node (its own multicasts come back to it) and c acknowledge everything; a never does. */
  private void acknowledgedByOthers() {
    mfc.replenish(self, CREDITS);
    mfc.replenish(c, CREDITS);
  }

  private void view(long id, Address... members) {
    mfc.down(new Event(Event.VIEW_CHANGE, View.create(members[0], id, members)));
  }

  /** Whether a multicast of {@code bytes} passed MFC (else it was dropped: MFC would have waited). */
  private boolean multicast(int bytes) {
    int before = passed.size();
    mfc.down(new BytesMessage(null, bytes == PAYLOAD.length ? PAYLOAD : new byte[bytes]).setFlag(Message.TransientFlag.DONT_BLOCK));
    return passed.size() > before;
  }
}
