package io.knowngood.replication;

import static io.knowngood.replication.LoopbackChannels.announce;
import static io.knowngood.replication.LoopbackChannels.gms;
import static io.knowngood.replication.LoopbackChannels.merge3;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.jgroups.JChannel;
import org.jgroups.View;
import org.jgroups.ViewId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link ResumingMerge3} on one member alone, on the mesh's real stack over loopback (LAN timings: a
 * 1 s check interval). A view announced with a {@code TMP_VIEW} and never installed stops the checks for
 * one check interval only; one installed after it, or a disconnect, is left to MERGE3 as it is. The whole-mesh cases, where the
 * stale member leads the merge, are in {@link StaleViewMergeTest}.
 */
class ResumingMerge3Test {
  private static final MeshConfig.Timings TIMINGS = MeshConfig.Timings.forLan();
  @RegisterExtension
  final LoopbackChannels channels = new LoopbackChannels();

  private final Counters counters = new Counters();

  @Test
  void aTmpViewNeverInstalled_stopsTheChecks_untilOneCheckIntervalHasPassed() throws Exception {
    JChannel alone = startAlone();
    announceNext(alone);
    assertFalse(merge3(alone).isViewConsistencyCheckerRunning(), "stopped for the view about to be installed");

    await("checks resumed").atMost(TIMINGS.mergeCheckInterval().multipliedBy(5))
        .until(() -> merge3(alone).isViewConsistencyCheckerRunning() && merge3(alone).isInfoSenderRunning());
    assertEquals(1, counters.snapshot().mergeChecksResumed());
    assertEquals(0, counters.snapshot().mergeChecksKept());
  }

  @Test
  void aTmpViewOfTheHeldView_doesNotStopTheChecks() throws Exception {
    JChannel alone = startAlone();
    announce(alone, alone.getView());

    assertTrue(merge3(alone).isViewConsistencyCheckerRunning() && merge3(alone).isInfoSenderRunning());
    assertEquals(1, counters.snapshot().mergeChecksKept());
  }

  @Test
  void aTmpViewFollowedByItsView_isNeitherKeptNorResumed() throws Exception {
    JChannel alone = startAlone();
    View next = announceNext(alone);
    gms(alone).installView(next);

    await("its view installed, the checks running").atMost(TIMINGS.mergeCheckInterval())
        .until(() -> merge3(alone).isViewConsistencyCheckerRunning() && alone.getView().equals(next));
    await("no resume after the view change").during(TIMINGS.mergeCheckInterval().multipliedBy(2))
        .atMost(TIMINGS.mergeCheckInterval().multipliedBy(3))
        .until(() -> counters.snapshot().mergeChecksResumed() == 0 && counters.snapshot().mergeChecksKept() == 0);
  }

  /** The transport's timer stops with the channel, and the pending resume with it. */
  @Test
  void aDisconnectAfterTheTmpView_keepsTheChecksStopped() throws Exception {
    JChannel alone = startAlone();
    announceNext(alone);
    alone.disconnect();

    await("checks stay stopped").during(TIMINGS.mergeCheckInterval().multipliedBy(3))
        .atMost(TIMINGS.mergeCheckInterval().multipliedBy(4))
        .until(() -> !merge3(alone).isViewConsistencyCheckerRunning() && !merge3(alone).isInfoSenderRunning()
            && counters.snapshot().mergeChecksResumed() == 0);
  }

  private JChannel startAlone() throws Exception {
    InetSocketAddress bind = LoopbackChannels.freeAddress();
    JChannel alone = channels.start(new MeshConfig("node-a", "resuming-merge3", bind, List.of(bind),
        new MeshConfig.Plaintext(), TIMINGS), false, stack -> {});
    assertTrue(merge3(alone).isViewConsistencyCheckerRunning(), "a member alone checks too");
    ((ResumingMerge3) merge3(alone)).countInto(counters);
    return alone;
  }

  /** Announces the next view with a {@code TMP_VIEW}, as GMS does before installing it, and returns it. */
  private static View announceNext(JChannel ch) {
    View held = ch.getView();
    View next = new View(new ViewId(ch.getAddress(), held.getViewId().getId() + 1), held.getMembers());
    announce(ch, next);
    return next;
  }
}
