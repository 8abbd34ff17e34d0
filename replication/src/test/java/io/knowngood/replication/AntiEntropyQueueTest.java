package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jgroups.Address;
import org.jgroups.BytesMessage;
import org.jgroups.JChannel;
import org.jgroups.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The shell's queue: while its thread is busy, messages from members beyond the bound are dropped
 * and counted, and nothing is lost once it drains. A channel that never connects stands in for the
 * cluster (messages are handed to {@code receive} as JGroups would).
 */
class AntiEntropyQueueTest {
  private static final VersionStamp STAMP = new VersionStamp(1, HexFormat.of().formatHex(new byte[32]));

  @Test
  void flood_whileTheThreadIsBusy_isBoundedAndCounted_thenDrained() throws Exception {
    Counters counters = new Counters();
    CountDownLatch busy = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ArchiveSink sink = new ArchiveSink() {
      @Override
      public void archiveReceived(String name, byte[] archive, String member, java.util.function.Consumer<Boolean> verified) {}

      @Override
      public void fullScan(String source) {}
    };
    Runnable onAnnounced = () -> {
      busy.countDown();
      try {
        release.await(30, TimeUnit.SECONDS); // the first have holds the thread
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    };
    try (JChannel unconnected = new JChannel(false);
         AntiEntropy ae = new AntiEntropy("q", unconnected, new InMemoryLocalBundles(), sink, counters,
             MeshConfig.Timings.forLocalTesting(), v -> {}, onAnnounced)) {
      Address member = UUID.randomUUID();
      ae.receive(have(member, "first"));
      assertThat(busy.await(10, TimeUnit.SECONDS)).isTrue();
      int flood = AntiEntropy.MAX_QUEUED_MESSAGES + 1000;
      for (int i = 0; i < flood; i++) {
        ae.receive(have(member, String.format("n%05d", i)));
      }
      assertThat(counters.snapshot().rejected()).containsEntry(AntiEntropy.QUEUE_FULL, 1000L);
      ae.receive(new BytesMessage(null, new byte[] {42}).setSrc(member));
      assertThat(counters.snapshot().rejected()).containsEntry(AntiEntropy.MALFORMED, 1L);

      release.countDown();
      await().atMost(Duration.ofSeconds(30)).until(() -> ae.digests().getOrDefault(member, java.util.Map.of()).size()
          == 1 + AntiEntropy.MAX_QUEUED_MESSAGES);
      assertThat(ae.announced(member, "n00000")).isEqualTo(STAMP);
      assertThat(ae.announced(member, String.format("n%05d", flood - 1))).isNull();
      // room again
      ae.receive(have(member, "later"));
      await().atMost(Duration.ofSeconds(10)).until(() -> STAMP.equals(ae.announced(member, "later")));
    }
  }

  private static BytesMessage have(Address from, String name) {
    BytesMessage m = new BytesMessage(null, AeMessage.encode(new AeMessage.Have(name, STAMP)));
    m.setSrc(from);
    return m;
  }
}
