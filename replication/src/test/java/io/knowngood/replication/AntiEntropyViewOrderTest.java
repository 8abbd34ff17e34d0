package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jgroups.Address;
import org.jgroups.JChannel;
import org.jgroups.MergeView;
import org.jgroups.View;
import org.jgroups.ViewId;
import org.jgroups.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * JGroups 5.5.2 can hand a merge view up after a newer view (GMS sends the event up outside its lock;
 * seen in the soak: the channel then reported the older, smaller view for 60 s). Anti-entropy, and the
 * mesh through it, keep the newest view.
 */
class AntiEntropyViewOrderTest {

  @Test
  void aViewOlderThanOneAlreadySeen_isDropped_aNewerOneIsTaken() throws Exception {
    List<View> seen = new CopyOnWriteArrayList<>();
    try (JChannel unconnected = new JChannel(false);
         AntiEntropy ae = antiEntropy("order", unconnected, seen::add)) {
      Address n1 = UUID.randomUUID();
      Address n2 = UUID.randomUUID();
      Address n3 = UUID.randomUUID();
      View v86 = new View(new ViewId(n3, 86), List.of(n3, n1, n2));
      View merge85 = new MergeView(new ViewId(n3, 85), List.of(n3, n1),
          List.of(new View(new ViewId(n1, 84), List.of(n1)), new View(new ViewId(n3, 84), List.of(n3))));
      View v87 = new View(new ViewId(n3, 87), List.of(n3, n1));

      ae.viewAccepted(v86);
      ae.viewAccepted(merge85);
      ae.viewAccepted(v86);
      ae.viewAccepted(v87);

      assertThat(seen).containsExactly(v86, v87);
    }
  }

  /**
   * Two views delivered at once on two JGroups threads (soak, 2026-12-04: view 299 and merge view 300):
   * the older one's hand-over to the mesh is slow. The mesh must end with the newer view, whichever
   * thread passed the check first.
   */
  @Test
  void twoViewsDeliveredAtOnce_theMeshEndsWithTheNewer() throws Exception {
    List<View> handedOver = new CopyOnWriteArrayList<>();
    CountDownLatch olderInside = new CountDownLatch(1);
    CountDownLatch newerDone = new CountDownLatch(1);
    Address n1 = UUID.randomUUID();
    Address n2 = UUID.randomUUID();
    Address n3 = UUID.randomUUID();
    View v299 = new View(new ViewId(n3, 299), List.of(n3, n1));
    View merge300 = new MergeView(new ViewId(n1, 300), List.of(n1, n3, n2),
        List.of(new View(new ViewId(n2, 299), List.of(n2)), new View(new ViewId(n3, 298), List.of(n3, n2, n1))));
    java.util.function.Consumer<View> mesh = v -> {
      if (v == v299) {
        olderInside.countDown();
        try {
          // the older view's thread is descheduled here: the newer one may finish meanwhile (bounded wait)
          newerDone.await(500, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      handedOver.add(v);
      if (v == merge300) {
        newerDone.countDown();
      }
    };
    try (JChannel unconnected = new JChannel(false);
         AntiEntropy ae = antiEntropy("order2", unconnected, mesh)) {
      Thread older = new Thread(() -> ae.viewAccepted(v299), "jgroups-older");
      older.start();
      assertThat(olderInside.await(5, TimeUnit.SECONDS)).isTrue();
      Thread newer = new Thread(() -> ae.viewAccepted(merge300), "jgroups-newer");
      newer.start();
      older.join(5_000);
      newer.join(5_000);
      assertThat(handedOver).containsExactly(v299, merge300);
    }
  }

  /** Anti-entropy on an unconnected channel, handing its views to {@code onView}; archives go nowhere. */
  private static AntiEntropy antiEntropy(String node, JChannel channel, java.util.function.Consumer<View> onView) {
    ArchiveSink sink = new ArchiveSink() {
      @Override
      public void archiveReceived(String name, byte[] archive, String member, java.util.function.Consumer<Boolean> verified) {}

      @Override
      public void fullScan(String source) {}
    };
    return new AntiEntropy(node, channel, new InMemoryLocalBundles(), sink, new Counters(), MeshConfig.Timings.forLocalTesting(),
        onView, () -> {});
  }
}
