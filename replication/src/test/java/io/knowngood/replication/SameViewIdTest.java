package io.knowngood.replication;

import static io.knowngood.replication.LoopbackChannels.gms;
import static io.knowngood.replication.LoopbackChannels.merge3;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jgroups.Address;
import org.jgroups.Event;
import org.jgroups.JChannel;
import org.jgroups.View;
import org.jgroups.ViewId;
import org.jgroups.protocols.pbcast.GMS;
import org.jgroups.protocols.pbcast.GmsImpl;
import org.jgroups.protocols.pbcast.STABLE;
import org.jgroups.stack.ProtocolStack;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The chaos run's split that nothing merged (seed 20261242 with 2 s fault holds, 2026-12-06): two members
 * each made a view numbered as the coordinator's next one, with other members. The coordinator and one
 * member held {@code [c|5] [c, a]}; the third member held {@code [c|5] [c, b]}, made on its own suspect
 * thread. MERGE3 compares view ids only, so every check found one view and the split stood for four
 * minutes, until a restart. Here the member holding the coordinator's view id without being in the
 * coordinator's view is told so by the coordinator and leaves that view, and MERGE3 merges it back.
 * And the likely cause, closed by {@link OrderedGms.OneReadingParticipant}: a suspicion withdrawn while
 * a participant decides to coordinate.
 */
class SameViewIdTest {
  private static final Duration MERGED_WITHIN = Duration.ofSeconds(20);
  @RegisterExtension
  final LoopbackChannels channels = new LoopbackChannels();

  @Test
  void aMemberHoldingTheCoordinatorsViewIdWithOtherMembers_isMergedBack() throws Exception {
    LoopbackChannels.Members members = channels.startInOneView(SameViewIdTest::config, false, stack -> {},
        "node-a", "node-b", "node-c");
    List<JChannel> all = members.channels();
    Address coordinator = all.get(0).getView().getCoord();
    JChannel coord = all.stream().filter(ch -> ch.getAddress().equals(coordinator)).findFirst().orElseThrow();
    List<JChannel> others = all.stream().filter(ch -> ch != coord).toList();
    JChannel kept = others.get(0);
    JChannel odd = others.get(1);
    Counters coordCounts = countsOf(coord);
    Counters keptCounts = countsOf(kept);
    Counters oddCounts = countsOf(odd);

    ViewId next = new ViewId(coordinator, coord.getView().getViewId().getId() + 1);
    View coordinators = new View(next, List.of(coordinator, kept.getAddress()));
    gms(coord).installView(coordinators);
    gms(kept).installView(coordinators);
    // the same id, made by the odd member itself: the coordinator and itself
    gms(odd).installView(new View(next, List.of(coordinator, odd.getAddress())));

    await("one view of all three again").atMost(MERGED_WITHIN).until(() -> all.stream()
        .allMatch(m -> m.getView().size() == 3 && m.getView().getViewId().compareToIDs(next) > 0
            && m.getView().equals(coord.getView())));
    assertEquals(1, coordCounts.snapshot().sameIdViewsTold(), "the coordinator told the odd member, once");
    assertEquals(1, oddCounts.snapshot().sameIdViewsLeft(), "the odd member left its copy");
    assertEquals(0, keptCounts.snapshot().sameIdViewsLeft(), "the member in the coordinator's view stayed in it");
    assertEquals(0, keptCounts.snapshot().sameIdViewsTold() + oddCounts.snapshot().sameIdViewsTold());
  }

  /**
   * The interleaving behind the split, made on purpose: the second member suspects the coordinator and
   * the third, decides to coordinate, and a heartbeat from the coordinator withdraws its suspicion on
   * another thread just then. JGroups 5.5.2's participant made {@code [a|n] [a, b]}: numbered after the
   * coordinator it had counted out. Here the withdrawal waits for the change, and the view made excludes
   * both, as decided.
   */
  @Test
  void aSuspicionWithdrawnWhileAParticipantDecidesToCoordinate_doesNotNumberItsViewAfterTheCoordinator() throws Exception {
    WithdrawingGms racing = new WithdrawingGms();
    LoopbackChannels.Members members = channels.startInOneView(SameViewIdTest::config, false,
        stack -> {}, "node-a");
    JChannel coord = members.get(0);
    JChannel second = channels.start(config("node-b", LoopbackChannels.freeAddress(), members.addresses()), false,
        stack -> swapGms(stack, racing));
    JChannel third = channels.start(config("node-c", LoopbackChannels.freeAddress(), members.addresses()), false,
        stack -> {});
    TestCluster.awaitChannelViews(coord, second, third);
    View before = second.getView();

    racing.withdrawOnce = coord.getAddress();
    gms(second).up(new Event(Event.SUSPECT, List.of(coord.getAddress(), third.getAddress())));

    await("the second member's own view").atMost(MERGED_WITHIN)
        .until(() -> second.getView().getViewId().compareToIDs(before.getViewId()) > 0);
    View made = second.getView();
    assertEquals(second.getAddress(), made.getCreator(), "numbered after its coordinator: " + made);
    assertEquals(List.of(second.getAddress()), made.getMembers(), "both suspects excluded: " + made);
  }

  /**
   * The participant GMS uses can take part in merges: it holds the GMS's merger (made in {@code init}),
   * so a merge event it gets is handled (identical views: ignored) rather than failing.
   */
  @Test
  void aJoinedMembersParticipant_handlesMergeEvents() throws Exception {
    LoopbackChannels.Members members = channels.startInOneView(SameViewIdTest::config, false, stack -> {},
        "node-a", "node-b");
    JChannel participant = members.channels().stream()
        .filter(ch -> !ch.getAddress().equals(ch.getView().getCoord())).findFirst().orElseThrow();
    GmsImpl role = gms(participant).getImpl();
    assertInstanceOf(OrderedGms.OneReadingParticipant.class, role);
    View view = participant.getView();
    assertDoesNotThrow(() -> role.merge(Map.of(view.getCoord(), view, participant.getAddress(), view)));
  }

  /** Replaces the stack's GMS with {@code replacement}, with the mesh's settings, before the channel connects. */
  private static void swapGms(ProtocolStack stack, GMS replacement) throws Exception {
    GMS built = stack.removeProtocol(GMS.class);
    replacement.setJoinTimeout(built.getJoinTimeout());
    replacement.setMergeTimeout(built.getMergeTimeout());
    replacement.printLocalAddress(false);
    stack.insertProtocol(replacement, ProtocolStack.Position.ABOVE, STABLE.class);
    replacement.setProtocolStack(stack);
    replacement.init(); // the channel initialized its stack when it was built
  }

  /**
   * The mesh's GMS that, the next time it becomes coordinator, first has another thread withdraw the
   * suspicion of one member from the participant (as a heartbeat does) and waits up to 500 ms for it.
   */
  static final class WithdrawingGms extends OrderedGms {
    volatile Address withdrawOnce;

    @Override
    public void becomeCoordinator() {
      Address withdraw = withdrawOnce;
      withdrawOnce = null;
      if (withdraw != null) {
        GmsImpl participant = getImpl();
        CompletableFuture<Void> heartbeat = CompletableFuture.runAsync(() -> participant.unsuspect(withdraw));
        try {
          heartbeat.get(500, TimeUnit.MILLISECONDS);
        } catch (TimeoutException heldOff) {
          // the participant holds the withdrawal until its change is done
        } catch (InterruptedException | ExecutionException e) {
          throw new IllegalStateException(e);
        }
      }
      super.becomeCoordinator();
    }
  }

  private static Counters countsOf(JChannel ch) {
    Counters counters = new Counters();
    ((ResumingMerge3) merge3(ch)).countInto(counters);
    return counters;
  }

  private static MeshConfig config(String id, InetSocketAddress bind, List<InetSocketAddress> peers) {
    return new MeshConfig(id, "same-view-id", bind, peers, new MeshConfig.Plaintext(), MeshConfig.Timings.forLan());
  }
}
