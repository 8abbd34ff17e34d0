package io.knowngood.replication;

import static io.knowngood.replication.LoopbackChannels.announce;
import static io.knowngood.replication.LoopbackChannels.gms;
import static io.knowngood.replication.LoopbackChannels.merge3;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.jgroups.JChannel;
import org.jgroups.View;
import org.jgroups.ViewId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The soak's stale view (docs/chaos.md, 2026-12-03 night), on the real JGroups stack over loopback: a
 * coordinator that the two other members excluded without its knowing keeps its view of all three,
 * while they hold a newer view of two. Nothing in failure detection tells it (they still answer its
 * suspicion checks), so only MERGE3 can bring the three back into one view. And the soak's cause, caught
 * at TRACE (docs/chaos.md, 2026-12-04): the stale member is the merge leader and its MERGE3 was stopped
 * by a TMP_VIEW whose view was never installed after it ({@link ResumingMerge3}).
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
      gms(ch).installView(excluded);
    }

    await("one view of all three again").atMost(MERGED_WITHIN).until(() -> Arrays.stream(new JChannel[] {first, memberB, memberC})
        .allMatch(m -> m.getView().size() == 3 && m.getView().getViewId().compareToIDs(excluded.getViewId()) > 0
            && m.getView().equals(first.getView())));
  }

  @Test
  void aMergeLeader_whoseMergeViewWasCastAfterItWasInstalled_stillLeadsTheMerge() throws Exception {
    StaleLeader split = staleLeader();
    // the cast that lost the race to install the merge view: its TMP_VIEW comes down after the view is held
    announce(split.leader(), split.stale());
    assertTrue(merge3(split.leader()).isViewConsistencyCheckerRunning(), "checks go on: no view change will follow");

    awaitOneViewOfAll(split);
  }

  @Test
  void aMergeLeader_whoseTmpViewIsNeverInstalled_resumesItsChecksAndLeadsTheMerge() throws Exception {
    StaleLeader split = staleLeader();
    View neverInstalled = new View(new ViewId(split.leader().getAddress(), split.stale().getViewId().getId() + 5),
        split.stale().getMembers());
    announce(split.leader(), neverInstalled);
    assertFalse(merge3(split.leader()).isViewConsistencyCheckerRunning(), "stopped for the view about to be installed");

    awaitOneViewOfAll(split);
  }

  /**
   * Three members split as in the soak: the lowest address holds a view of all three that it coordinates,
   * the two others a newer view without it. The lowest address leads the merge (JGroups' Merger picks the
   * lowest of the views' coordinators), so only its MERGE3 checks can start it.
   */
  private StaleLeader staleLeader() throws Exception {
    LoopbackChannels.Members members = channels.startInOneView(StaleViewMergeTest::config, false, stack -> {},
        "node-a", "node-b", "node-c");
    List<JChannel> byAddress = members.channels().stream().sorted(Comparator.comparing(JChannel::getAddress)).toList();
    JChannel leader = byAddress.get(0);
    JChannel second = byAddress.get(1);
    JChannel third = byAddress.get(2);
    long id = leader.getView().getViewId().getId();
    View stale = new View(new ViewId(leader.getAddress(), id + 1),
        List.of(leader.getAddress(), second.getAddress(), third.getAddress()));
    gms(leader).installView(stale);
    View excluded = new View(new ViewId(second.getAddress(), id + 2), List.of(second.getAddress(), third.getAddress()));
    for (JChannel ch : List.of(second, third)) {
      gms(ch).installView(excluded);
    }
    return new StaleLeader(byAddress, stale, excluded);
  }

  private record StaleLeader(List<JChannel> byAddress, View stale, View excluded) {
    JChannel leader() {
      return byAddress.get(0);
    }
  }

  private static void awaitOneViewOfAll(StaleLeader split) {
    await("one view of all three again").atMost(MERGED_WITHIN).until(() -> split.byAddress().stream()
        .allMatch(m -> m.getView().size() == 3 && m.getView().getViewId().compareToIDs(split.excluded().getViewId()) > 0
            && m.getView().equals(split.leader().getView())));
  }

  private static MeshConfig config(String id, InetSocketAddress bind, List<InetSocketAddress> peers) {
    return new MeshConfig(id, "stale-view", bind, peers, new MeshConfig.Plaintext(), MeshConfig.Timings.forLan());
  }
}
