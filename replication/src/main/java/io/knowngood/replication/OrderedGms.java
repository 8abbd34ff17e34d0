package io.knowngood.replication;

import java.util.Collection;
import org.jgroups.Address;
import org.jgroups.View;
import org.jgroups.conf.ClassConfigurator;
import org.jgroups.protocols.pbcast.GMS;
import org.jgroups.protocols.pbcast.ParticipantGmsImpl;
import org.jgroups.util.Digest;

/**
 * GMS whose view installations pass their view events down and up one at a time, in the order they
 * were installed, and whose participant decides to coordinate and excludes on one reading of its suspects.
 *
 * <p>JGroups 5.5.2 {@code GMS.installView} sets the view under its lock but passes the VIEW_CHANGE event
 * down (failure detection, the transport, NAKACK2) and up (flow control, FORK, the channel, Infinispan)
 * after releasing it (unchanged in 5.5.6). Two installations on two threads can then pass their events
 * in the other order. It happens on a first member that is slow to connect: its view of itself alone,
 * installed on the connecting thread, reached the stack after the view with a member that joined it
 * meanwhile (installed on the view handler thread). Every protocol then held the view of one: its
 * failure detection watched nobody, so it never excluded the other member after a split, and the
 * channel reported itself alone (clean-clone CI 2026-12-06: {@code SameVersionTieTest} waited 40 s for a
 * split to be noticed, {@code PublishHoldersTest} for a view of two, ISPN000711 on the first member).
 * {@code AntiEntropy.viewAccepted} already dropped such a late view for anti-entropy alone.
 *
 * <p>Views are installed on the view handler's one thread except the first (the connecting thread)
 * and a participant's, so serializing them costs nothing in the common case; what the events reach
 * does not wait for another view (Infinispan and anti-entropy hand views to threads of their own).
 *
 * <p>The participant ({@link OneReadingParticipant}) closes the race behind a split MERGE3 cannot see
 * (docs/replication.md, "One view id, two memberships").
 */
class OrderedGms extends GMS {
  private final Object installing = new Object();

  OrderedGms() {
    // GMS's protocol id: its headers stay GMS's on the wire
    setId(ClassConfigurator.getProtocolId(GMS.class));
  }

  @Override
  public void init() throws Exception {
    super.init();
    // GMS makes each role once and keeps it in impls (becomeParticipant). A role takes the GMS's merger
    // when it is made, and GMS makes its merger here, in init: a participant made before it (in the
    // constructor) could handle no merge (a NullPointerException in clean-clone CI's ChaosCiTest, every
    // merge whose leader was a participant, so the mesh did not re-form)
    impls.put(PART, new OneReadingParticipant(this));
  }

  @Override
  public void installView(View newView, Digest digest) {
    synchronized (installing) {
      super.installView(newView, digest);
    }
  }

  /**
   * JGroups 5.5.2's participant, with a suspicion withdrawn only between its membership changes.
   * {@code handleMembershipChange} decides whether this member coordinates from its set of suspects,
   * then reads the set again to list whom the view it will make excludes, and a heartbeat can withdraw a
   * suspicion ({@code unsuspect}, on a receiving thread) in between: the member then coordinated a view
   * that kept the member it had just counted out, and numbered it after that member, its first. That is
   * the likely way a participant made {@code [n3|5] [n3, n2]} while n3 made {@code [n3|5] [n3, n1]}
   * (ChaosCiTest, seed 20261242; made on purpose in SameViewIdTest, it gives that shape). JGRP-2966
   * (5.5.3) guards the set but still reads it twice. A suspicion withdrawn during a change here applies
   * after it; the view made meanwhile excludes what the decision counted, a plain split that MERGE3
   * merges.
   */
  static final class OneReadingParticipant extends ParticipantGmsImpl {
    OneReadingParticipant(GMS gms) {
      super(gms);
    }

    @Override
    public synchronized void init() throws Exception {
      super.init();
    }

    // called on the view handler's one thread; it only queues the view it decides on (the handler makes it after)
    @Override
    public synchronized void handleMembershipChange(Collection<Request> requests) {
      super.handleMembershipChange(requests);
    }

    @Override
    public synchronized void unsuspect(Address mbr) {
      super.unsuspect(mbr);
    }
  }
}
