package io.knowngood.replication;

import static org.awaitility.Awaitility.await;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.jgroups.JChannel;
import org.jgroups.View;
import org.jgroups.ViewId;
import org.jgroups.protocols.pbcast.GMS;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The soak's stale view (docs/chaos.md, 2026-12-03 night), on the real JGroups stack over loopback: a
 * coordinator that the two other members excluded without its knowing keeps its view of all three,
 * while they hold a newer view of two. Nothing in failure detection tells it (they still answer its
 * suspicion checks), so only MERGE3 can bring the three back into one view.
 */
class StaleViewMergeTest {
  private static final Duration MERGED_WITHIN = Duration.ofSeconds(20);
  @RegisterExtension
  final LoopbackChannels channels = new LoopbackChannels();

  @Test
  void aCoordinatorExcludedWithoutItsKnowing_isMergedBackByMerge3() throws Exception {
    LoopbackChannels.Members members = channels.startInOneView(StaleViewMergeTest::config, false, stack -> {},
        "node-a", "node-b", "node-c");
    JChannel first = members.get(0);
    JChannel memberB = members.get(1);
    JChannel memberC = members.get(2);

    // B takes over as coordinator of B and C, as after a suspicion of A confirmed once A had sent its
    // merge view: both install it, A is told nothing
    View stale = first.getView();
    View excluded = new View(new ViewId(memberB.getAddress(), stale.getViewId().getId() + 1),
        List.of(memberB.getAddress(), memberC.getAddress()));
    for (JChannel ch : List.of(memberB, memberC)) {
      ch.getProtocolStack().<GMS>findProtocol(GMS.class).installView(excluded);
    }

    await("one view of all three again").atMost(MERGED_WITHIN).until(() -> Arrays.stream(new JChannel[] {first, memberB, memberC})
        .allMatch(m -> m.getView().size() == 3 && m.getView().getViewId().compareToIDs(excluded.getViewId()) > 0
            && m.getView().equals(first.getView())));
  }

  private static MeshConfig config(String id, InetSocketAddress bind, List<InetSocketAddress> peers) {
    return new MeshConfig(id, "stale-view", bind, peers, new MeshConfig.Plaintext(), MeshConfig.Timings.forLan());
  }
}
