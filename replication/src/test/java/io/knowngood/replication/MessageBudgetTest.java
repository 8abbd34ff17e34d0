package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MessageBudgetTest {

  @Test
  void messages_beyondTheCount_areRefused_untilOneIsReleased() {
    MessageBudget b = new MessageBudget(3, 1_000);
    assertThat(b.tryTake(10)).isTrue();
    assertThat(b.tryTake(10)).isTrue();
    assertThat(b.tryTake(10)).isTrue();
    assertThat(b.tryTake(10)).isFalse();
    assertThat(b.messages()).isEqualTo(3);
    b.release(10);
    assertThat(b.tryTake(10)).isTrue();
    assertThat(b.bytes()).isEqualTo(30);
  }

  @Test
  void bytes_beyondTheBudget_areRefused_butOneLargeMessageAloneIsLetIn() {
    MessageBudget b = new MessageBudget(100, 1_000);
    assertThat(b.tryTake(5_000)).as("alone, whatever its size").isTrue();
    assertThat(b.tryTake(1)).isFalse();
    b.release(5_000);
    assertThat(b.tryTake(600)).isTrue();
    assertThat(b.tryTake(600)).isFalse();
    assertThat(b.tryTake(400)).isTrue();
    assertThat(b.messages()).isEqualTo(2);
    assertThat(b.bytes()).isEqualTo(1_000);
  }

  @Test
  void aFlood_leavesTheBudgetExactlyAtItsBound() throws InterruptedException {
    MessageBudget b = new MessageBudget(4096, 64L << 20);
    Thread[] senders = new Thread[4];
    int[] admitted = new int[senders.length];
    for (int t = 0; t < senders.length; t++) {
      int me = t;
      senders[t] = new Thread(() -> {
        for (int i = 0; i < 10_000; i++) {
          if (b.tryTake(100)) {
            admitted[me]++;
          }
        }
      });
      senders[t].start();
    }
    for (Thread s : senders) {
      s.join();
    }
    assertThat(admitted[0] + admitted[1] + admitted[2] + admitted[3]).isEqualTo(4096);
    assertThat(b.messages()).isEqualTo(4096);
    assertThat(b.bytes()).isEqualTo(409_600);
  }
}
