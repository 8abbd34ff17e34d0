package io.knowngood.replication;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import org.jgroups.Address;
import org.jgroups.BytesMessage;
import org.jgroups.Event;
import org.jgroups.Message;
import org.jgroups.PhysicalAddress;
import org.jgroups.View;
import org.jgroups.ViewId;
import org.jgroups.conf.ClassConfigurator;
import org.jgroups.protocols.MERGE3;
import org.jgroups.protocols.pbcast.GMS;

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
 *
 * <p>It also ends a split that MERGE3 cannot see: members holding one view id with different members.
 * A view's id names its coordinator, and a coordinator makes each id once; but a participant that decides
 * to coordinate after suspicions numbers its view after the first member left in it, which need not be
 * itself. In the chaos run of seed 20261242 (2 s fault holds, 2026-12-06) the coordinator c made
 * {@code [c|5] [c, a]} while b, on its own suspect thread, made {@code [c|5] [c, b]}: most likely b's
 * suspicion of c was withdrawn between JGroups 5.5.2's decision to coordinate and its reading of the
 * suspects, which {@link OrderedGms.OneReadingParticipant} now prevents. MERGE3 compares view ids only,
 * so every check found one view; b heard nothing from c (c's heartbeats go to its own view) but c
 * answered every suspicion check, and the
 * split stood four minutes, until a restart. Here the coordinator that hears a member announce the
 * coordinator's own view id without being in that view sends it the view (MERGE3's VIEW_RSP, unasked);
 * a member told by the coordinator of its view id that the view has other members leaves it, suspecting
 * every other member as failure detection would (it becomes a view of one), and MERGE3's next check
 * merges it back, since the ids now differ.
 */
final class ResumingMerge3 extends MERGE3 {
  /**
   * Counts TMP_VIEW stops and view changes: a resume runs only if nothing came after its stop. A disconnect
   * needs no count: it stops the transport's timer, and the pending resume with it.
   */
  private final AtomicLong transitions = new AtomicLong();
  /** Members told that they hold this coordinator's view id without being in it, with the id (logged once each). */
  private final Map<Address, ViewId> told = new ConcurrentHashMap<>();
  /** The view id this member last left for being told its view differs (logged and counted once). */
  private final AtomicReference<ViewId> left = new AtomicReference<>();
  private volatile Counters counters;

  ResumingMerge3() {
    // MERGE3's protocol id: its headers stay MERGE3's on the wire
    setId(ClassConfigurator.getProtocolId(MERGE3.class));
  }

  /**
   * Counts what this protocol keeps running ({@link MeshStats#mergeChecksKept()}, {@code mergeChecksResumed})
   * and the same-id splits it ends ({@code sameIdViewsTold}, {@code sameIdViewsLeft}) into {@code into}.
   */
  void countInto(Counters into) {
    this.counters = into;
  }

  @Override
  public Object down(Event evt) {
    switch (evt.getType()) {
      case Event.VIEW_CHANGE -> {
        transitions.incrementAndGet();
        told.clear();
      }
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

  @Override
  protected void addInfo(Address sender, ViewId viewId, String logicalName, PhysicalAddress physicalAddr) {
    super.addInfo(sender, viewId, logicalName, physicalAddr);
    View mine = view;
    if (mine == null || viewId == null || !viewId.equals(mine.getViewId()) || !mine.getCreator().equals(local_addr)
        || mine.containsMember(sender)) {
      return;
    }
    // it announces this coordinator's view id, and it is not in this view: it holds a view of that id made elsewhere
    if (!viewId.equals(told.put(sender, viewId))) {
      log.warn("%s: %s announces view %s, which this member made without it (%s); sending it the view so that it leaves its copy",
          local_addr, sender, viewId, mine.getMembers());
      count(c -> c.sameIdViewsTold);
    }
    down_prot.down(new BytesMessage(sender).setFlag(Message.TransientFlag.DONT_BLOCK)
        .putHeader(getId(), MergeHeader.createViewResponse()).setArray(marshal(mine)));
  }

  @Override
  protected Object handle(MergeHeader hdr, Message msg) {
    // of MERGE3's three messages only VIEW_RSP carries a payload: the sender's view
    if (msg.getLength() > 0) {
      leaveIfItsCoordinatorHoldsOtherMembers(msg.getSrc(), readView(msg.getArray(), msg.getOffset(), msg.getLength()));
    }
    return super.handle(hdr, msg);
  }

  /**
   * Leaves this member's view when {@code sender} made it ({@code theirs} has the id of this member's view
   * and {@code sender} is that id's coordinator) with other members: this member then suspects every other
   * member, so GMS installs a view of this member alone, and MERGE3 merges the two views, whose ids now differ.
   * Tried again on every such answer while the split lasts (GMS drops suspicions during a merge).
   */
  private void leaveIfItsCoordinatorHoldsOtherMembers(Address sender, View theirs) {
    View mine = view;
    if (mine == null || theirs == null || sender == null || sender.equals(local_addr)
        || !sender.equals(mine.getCreator()) || !theirs.getViewId().equals(mine.getViewId())
        || View.sameMembers(mine, theirs)) {
      return;
    }
    if (!mine.getViewId().equals(left.getAndSet(mine.getViewId()))) {
      log.warn("%s: %s made view %s with members %s, but this member holds it with %s: leaving it, to be merged back",
          local_addr, sender, mine.getViewId(), theirs.getMembers(), mine.getMembers());
      count(c -> c.sameIdViewsLeft);
    }
    List<Address> others = mine.getMembers().stream().filter(m -> !m.equals(local_addr)).toList();
    GMS gms = getProtocolStack().findProtocol(GMS.class);
    // on the timer, as failure detection passes suspicions up: GMS may install the view on this thread
    timer.execute(() -> gms.up(new Event(Event.SUSPECT, others)), false);
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
