package io.knowngood.replication;

import org.jgroups.View;
import org.jgroups.conf.ClassConfigurator;
import org.jgroups.protocols.pbcast.GMS;
import org.jgroups.util.Digest;

/**
 * GMS whose view installations pass their view events down and up one at a time, in the order they
 * were installed.
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
 */
final class OrderedGms extends GMS {
  private final Object installing = new Object();

  OrderedGms() {
    // GMS's protocol id: its headers stay GMS's on the wire
    setId(ClassConfigurator.getProtocolId(GMS.class));
  }

  @Override
  public void installView(View newView, Digest digest) {
    synchronized (installing) {
      super.installView(newView, digest);
    }
  }
}
