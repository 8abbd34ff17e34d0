package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.awaitility.Awaitility;
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
 * {@link SilenceTolerantUfc} on its own, above a protocol that records what passes. UFC has no
 * non-blocking mode: a unicast past the destination's credits waits (here on a thread of its own) until
 * credits come, the destination leaves the view, or, here, it is found silent.
 */
class SilenceTolerantUfcTest {
  private static final long CREDITS = 10_000;

  private final Address a = UUID.randomUUID();
  private final Address self = UUID.randomUUID();
  private final List<Message> passed = new CopyOnWriteArrayList<>();
  private SilenceTolerantUfc ufc;

  @BeforeEach
  void stack() throws Exception {
    ufc = new SilenceTolerantUfc();
    ufc.setValue("max_credits", CREDITS);
    ufc.setValue("min_threshold", 0.4);
    ufc.setValue("max_block_time", 100L);
    ufc.init();
    ufc.setDownProtocol(new Protocol() {
      @Override
      public Object down(Message msg) {
        if (msg.getHeader(ufc.getId()) == null) { // not one of UFC's own credit requests
          passed.add(msg);
        }
        return null;
      }

      @Override
      public Object down(Event evt) {
        return null;
      }
    });
    ufc.down(new Event(Event.VIEW_CHANGE, View.create(a, 1, a, self)));
  }

  @Test
  void aUnicastWaitingForASilentMembersCredits_goesOnceItIsFoundSilent() {
    assertThat(unicast(8000)).succeedsWithin(Duration.ofSeconds(5));
    CompletableFuture<Void> held = unicast(4000);
    assertThat(stillWaiting(held)).as("a has acknowledged nothing: plain UFC waits").isTrue();
    ufc.silent(List.of(a));
    assertThat(held).succeedsWithin(Duration.ofSeconds(5));
    assertThat(ufc.waived()).containsExactly(a);
    assertThat(unicast(9000)).as("while silent, nothing waits for it").succeedsWithin(Duration.ofSeconds(5));
  }

  @Test
  void aMemberHeardAgain_countsAgainWithFullCredits() {
    ufc.silent(List.of(a));
    ufc.heard(a);
    assertThat(ufc.waived()).isEmpty();
    assertThat(unicast(8000)).succeedsWithin(Duration.ofSeconds(5));
    CompletableFuture<Void> held = unicast(4000);
    assertThat(stillWaiting(held)).isTrue();
    ufc.down(new Event(Event.VIEW_CHANGE, View.create(self, 2, self))); // a leaves: UFC itself lets it go
    assertThat(held).succeedsWithin(Duration.ofSeconds(5));
  }

  @Test
  void aSilenceIsWaivedUpToItsBudget() {
    ufc.silent(List.of(a));
    long sent = 0;
    while (sent + 8000 < SilenceWaivers.MAX_BYTES) {
      ufc.down(new BytesMessage(a, PAYLOAD));
      sent += 8000;
    }
    assertThat(ufc.waived()).containsExactly(a);
    ufc.down(new BytesMessage(a, PAYLOAD)); // crosses the budget: a counts again, from full credits less this
    assertThat(ufc.waived()).isEmpty();
    CompletableFuture<Void> held = unicast(4000);
    assertThat(stillWaiting(held)).as("past the budget a is waited for").isTrue();
    ufc.silent(List.of(a));
    assertThat(ufc.waived()).as("the same silence is not waived twice").isEmpty();
    ufc.heard(a);
    ufc.silent(List.of(a));
    assertThat(held).as("a new silence has a new budget").succeedsWithin(Duration.ofSeconds(5));
  }

  private static final byte[] PAYLOAD = new byte[8000];

  private CompletableFuture<Void> unicast(int bytes) {
    return CompletableFuture.runAsync(() -> ufc.down(new BytesMessage(a, new byte[bytes])));
  }

  /** Whether {@code f} is still waiting 300 ms on (UFC re-checks every max_block_time, 100 ms here). */
  private static boolean stillWaiting(CompletableFuture<Void> f) {
    Awaitility.await().pollDelay(Duration.ofMillis(300)).atMost(Duration.ofSeconds(1)).until(() -> true);
    return !f.isDone();
  }
}
