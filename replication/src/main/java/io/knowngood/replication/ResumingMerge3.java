package io.knowngood.replication;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import org.jgroups.Event;
import org.jgroups.View;
import org.jgroups.conf.ClassConfigurator;
import org.jgroups.protocols.MERGE3;

/**
 * MERGE3 whose view checks and announcements do not stay stopped by a view that is never installed.
 *
 * <p>Before GMS installs a view it sends a {@code TMP_VIEW} down, on which MERGE3 stops its view
 * consistency checker and its announcements (INFO); only the {@code VIEW_CHANGE} that follows starts
 * them again. GMS installs only a view newer than its own, so when the view was already installed by
 * another thread (seen in the chaos soak, docs/chaos.md: a merge leader installed its merge view on one
 * thread while another cast it, 61 ms later), no {@code VIEW_CHANGE} follows and MERGE3 stays stopped
 * until some later view change. A stale member that is the merge leader then never starts the merge:
 * the others log "waiting for merge leader" every check, and the mesh stays split for good.
 *
 * <p>Here a {@code TMP_VIEW} that is not newer than the view this member holds is passed on without
 * stopping anything (GMS will not install it), and a {@code TMP_VIEW} that stopped the tasks starts them
 * again if no {@code VIEW_CHANGE} came within one check interval: GMS installs a
 * view on the thread that sent its {@code TMP_VIEW}, right after it, so by then none is coming.
 */
final class ResumingMerge3 extends MERGE3 {
  /**
   * Counts TMP_VIEW stops and view changes: a resume runs only if nothing came after its stop. A disconnect
   * needs no count: it stops the transport's timer, and the pending resume with it.
   */
  private final AtomicLong transitions = new AtomicLong();
  private volatile Counters counters;

  ResumingMerge3() {
    // MERGE3's protocol id: its headers stay MERGE3's on the wire
    setId(ClassConfigurator.getProtocolId(MERGE3.class));
  }

  /** Counts what this protocol keeps running ({@link MeshStats#mergeChecksKept()}, {@code mergeChecksResumed}) into {@code into}. */
  void countInto(Counters into) {
    this.counters = into;
  }

  @Override
  public Object down(Event evt) {
    switch (evt.getType()) {
      case Event.VIEW_CHANGE -> transitions.incrementAndGet();
      case Event.TMP_VIEW -> {
        View next = evt.getArg();
        View held = view;
        if (held != null && next.getViewId().compareToIDs(held.getViewId()) <= 0) {
          log.debug("%s: TMP_VIEW %s is not newer than the view held (%s): no view change will follow, checks go on",
              local_addr, next.getViewId(), held.getViewId());
          count(c -> c.mergeChecksKept);
          return down_prot.down(evt);
        }
        Object ret = super.down(evt);
        // counted after the stop, so a view change that started the tasks before this stop ran does not cancel the resume
        long stop = transitions.incrementAndGet();
        timer.schedule(() -> resumeIfStillStopped(stop, next), check_interval, TimeUnit.MILLISECONDS, false);
        return ret;
      }
      default -> {
      }
    }
    return super.down(evt);
  }

  private void resumeIfStillStopped(long stop, View never) {
    if (view == null || transitions.get() != stop || isViewConsistencyCheckerRunning()) {
      return;
    }
    log.warn("%s: view %s was announced (TMP_VIEW) but not installed within %d ms; resuming view checks in view %s",
        local_addr, never.getViewId(), check_interval, view.getViewId());
    count(c -> c.mergeChecksResumed);
    startInfoSender();
    startViewConsistencyChecker();
  }

  private void count(Function<Counters, LongAdder> which) {
    Counters c = counters;
    if (c != null) {
      which.apply(c).increment();
    }
  }
}
