package io.knowngood.replication;

import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.jgroups.Address;
import org.jgroups.Message;
import org.jgroups.conf.ClassConfigurator;
import org.jgroups.protocols.MFC;

/**
 * MFC that does not wait for credits from a member failure detection hears nothing from, for up to
 * {@link #WAIVED_MAX_BYTES} of multicasts per silence.
 *
 * <p>MFC lets a node multicast {@code max_credits} bytes past what the slowest member in its view has
 * acknowledged, then blocks every multicast until that member sends credits. A member that is cut off
 * but stays in this node's view never does: with a cut between the coordinator and a member that is not
 * next in line, that member keeps the coordinator in its view for as long as the cut lasts (it cannot
 * take over, and the coordinator's view without it cannot reach it). In {@code StuckPeerTest} such a
 * member's publishes waited in MFC for the whole fault, and with them everything it had to say to the
 * member it still reached.
 *
 * <p>{@link ReconnectingFdAll3} reports the members it finds silent at each of its checks ({@link
 * #silent}) and the ones heard again ({@link #heard}). A silent member's credits are waived (its entry
 * leaves the credit map, which wakes the waiting senders) until it is heard, leaves the view, or
 * {@link #WAIVED_MAX_BYTES} have been multicast meanwhile; then it counts again as in plain MFC. The
 * bound keeps what this node's retransmission buffer (NAKACK2) holds for that member bounded, as MFC did.
 */
final class SilenceTolerantMfc extends MFC {
  /** Multicast bytes sent while credits are waived, per silence, before MFC waits for the silent members again. */
  static final long WAIVED_MAX_BYTES = 32L << 20;

  private final Object lock = new Object();
  /** Members in view that failure detection reports silent and whose credits are waived (guarded by lock). */
  private final Set<Address> waived = new HashSet<>();
  /** Members in view whose silence already used its budget: counted again until heard (guarded by lock). */
  private final Set<Address> exhausted = new HashSet<>();
  private List<Address> members = List.of(); // guarded by lock
  private long waivedBytes; // guarded by lock
  /** Whether any credits are waived now: the fast path of every multicast reads only this. */
  private volatile boolean waiving;

  SilenceTolerantMfc() {
    // MFC's protocol id: its credit headers stay MFC's on the wire
    setId(ClassConfigurator.getProtocolId(MFC.class));
  }

  /** Failure detection has heard nothing from {@code suspects} within its timeout. */
  void silent(Collection<Address> suspects) {
    synchronized (lock) {
      for (Address m : suspects) {
        if (members.contains(m) && !exhausted.contains(m) && waived.add(m)) {
          credits.remove(m); // wakes senders waiting only for m
          log.debug("%s: %s is silent: multicasts no longer wait for its credits", local_addr, m);
        }
      }
      waiving = !waived.isEmpty();
    }
  }

  /** Failure detection heard from {@code member} again. */
  void heard(Address member) {
    synchronized (lock) {
      exhausted.remove(member);
      if (waived.remove(member) && members.contains(member)) {
        credits.putIfAbsent(member);
      }
      settle();
    }
  }

  /** Credits currently waived (tests). */
  Set<Address> waived() {
    synchronized (lock) {
      return Set.copyOf(waived);
    }
  }

  @Override
  protected void handleViewChange(List<Address> mbrs) {
    if (mbrs == null) {
      return;
    }
    synchronized (lock) {
      members = List.copyOf(mbrs);
      waived.retainAll(mbrs);
      exhausted.retainAll(mbrs);
      super.handleViewChange(mbrs); // adds every member with full credits
      waived.forEach(credits::remove);
      settle();
    }
  }

  @Override
  protected Object handleDownMessage(Message msg, int length) {
    if (waiving) {
      synchronized (lock) {
        if (!waived.isEmpty()) {
          waivedBytes += length;
          if (waivedBytes >= WAIVED_MAX_BYTES) {
            log.warn("%s: %d bytes multicast while %s stayed silent in the view: multicasts wait for its credits again",
                local_addr, waivedBytes, waived);
            for (Address m : waived) {
              credits.putIfAbsent(m);
            }
            exhausted.addAll(waived);
            waived.clear();
            waiving = false;
          }
        }
      }
    }
    return super.handleDownMessage(msg, length);
  }

  /** Called under lock after the waived set shrank: a silence that ended starts the next with a full budget. */
  private void settle() {
    waiving = !waived.isEmpty();
    if (!waiving) {
      waivedBytes = 0;
    }
  }
}
