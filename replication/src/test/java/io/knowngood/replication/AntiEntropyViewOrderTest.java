package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
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
    ArchiveSink sink = new ArchiveSink() {
      @Override
      public void archiveReceived(String name, byte[] archive, String member, java.util.function.Consumer<Boolean> verified) {}

      @Override
      public void fullScan(String source) {}
    };
    try (JChannel unconnected = new JChannel(false);
         AntiEntropy ae = new AntiEntropy("order", unconnected, new InMemoryLocalBundles(), sink, new Counters(),
             MeshConfig.Timings.forLocalTesting(), seen::add, () -> {})) {
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
}
