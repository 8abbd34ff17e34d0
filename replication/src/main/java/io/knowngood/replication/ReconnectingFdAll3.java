package io.knowngood.replication;

import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.jgroups.Address;
import org.jgroups.Event;
import org.jgroups.PhysicalAddress;
import org.jgroups.conf.ClassConfigurator;
import org.jgroups.protocols.FD_ALL3;

/**
 * FD_ALL3 that also replaces the connection this node opened to a member it has heard nothing from
 * within the failure timeout ({@link DirectionalTcp#replaceOpenedTo}: a fresh connection opened aside,
 * swapped in once established). Whether the suspicion goes anywhere is unchanged: FD_ALL3 passes it on
 * only where this node would coordinate without the suspects; the connection is replaced on every node
 * that suspects.
 *
 * <p>It is for the node a one-way drop leaves behind. Its peers stop hearing it and exclude it; its own
 * view is unchanged, since it would not coordinate without them, and only its MERGE3 announcements can
 * start the merge, since the coordinator sees no other view. But the connection it writes them on is
 * dead for good: either its segments were lost and the kernel retransmits them with exponential
 * backoff, or the coordinator's reset on excluding it was lost. After the heal nothing it sends
 * arrives until its next retransmission (seen with DirectionalTcp at DEBUG: 10.4 s after the heal,
 * then the merge 1.2 s later; HealBench's noticed one-way drop took 10-18 s to a full view in 6 cycles
 * of 20). Plain TCP replaced that connection on the next view change, which never comes here.
 *
 * <p>A one-way drop breaks every TCP connection between the two hosts either way (each needs the
 * other's acknowledgements), so nothing that worked is lost; while the fault lasts the fresh connection
 * cannot be established and the old one stays. A connection established within the failure timeout is
 * kept: opening it took both directions, so it is not where the silence began (and right after a heal
 * the fresh connection is not replaced again while the merge is under way).
 *
 * <p>It also tells {@link SilenceTolerantMfc} and {@link SilenceTolerantUfc} which members are silent and
 * which are heard again, so that messages do not wait for credits from a member that cannot send them.
 */
final class ReconnectingFdAll3 extends FD_ALL3 {
  /** The flow-control protocols above that stop waiting for silent members (SilenceTolerantMfc and -Ufc), found at start. */
  private volatile List<SilenceWaivers.Tolerant> tolerant = List.of();

  ReconnectingFdAll3() {
    // FD_ALL3's protocol id: its heartbeat header stays FD_ALL3's on the wire
    setId(ClassConfigurator.getProtocolId(FD_ALL3.class));
  }

  @Override
  protected void suspect(List<Address> suspects) {
    tolerant.forEach(fc -> fc.silent(suspects));
    if (getTransport() instanceof DirectionalTcp tcp) {
      for (Address suspect : suspects) {
        if (down_prot.down(new Event(Event.GET_PHYSICAL_ADDRESS, suspect)) instanceof PhysicalAddress where) {
          tcp.replaceOpenedTo(where, suspect, TimeUnit.MILLISECONDS.toNanos(getTimeout()));
        }
      }
    }
    super.suspect(suspects);
  }

  @Override
  protected boolean unsuspect(Address member) {
    boolean was = super.unsuspect(member);
    if (was) {
      tolerant.forEach(fc -> fc.heard(member));
    }
    return was;
  }

  /**
   * The members in view that this node has heard nothing from within the timeout, as of its last check
   * (JGroups keeps them suspected until a heartbeat or message arrives, or the view drops them).
   */
  Set<Address> silent() {
    synchronized (this) { // FailureDetection guards suspected_mbrs with this protocol's lock
      return Set.copyOf(suspected_mbrs);
    }
  }

  @Override
  public void start() throws Exception {
    super.start();
    // the stack is complete once it starts
    tolerant = getProtocolStack().getProtocols().stream().filter(p -> p instanceof SilenceWaivers.Tolerant)
        .map(p -> (SilenceWaivers.Tolerant) p).toList();
  }
}
