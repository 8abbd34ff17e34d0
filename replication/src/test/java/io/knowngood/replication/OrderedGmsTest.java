package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jgroups.Address;
import org.jgroups.Event;
import org.jgroups.JChannel;
import org.jgroups.View;
import org.jgroups.protocols.SHARED_LOOPBACK;
import org.jgroups.protocols.SHARED_LOOPBACK_PING;
import org.jgroups.protocols.pbcast.NAKACK2;
import org.jgroups.protocols.pbcast.GMS;
import org.jgroups.stack.Protocol;
import org.jgroups.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Two view installations racing, as on a first member that is slow to connect: the thread installing
 * the view of one is held after GMS released its lock, just as it passes the event down; meanwhile
 * another thread installs the view with the joiner. Below GMS, the events must arrive in installation
 * order, so the stack ends on the newer view.
 */
class OrderedGmsTest {
  private final Address self = UUID.randomUUID();
  private final Address joiner = UUID.randomUUID();

  @Test
  void aViewInstalledWhileTheOlderOneIsStillPassingDown_arrivesAfterIt() throws Exception {
    assertThat(lastViewBelow(new OrderedGms())).as("the view the protocols below GMS hold at the end").isEqualTo(1);
  }

  @Test
  void plainGms_letsTheOlderViewArriveLast() throws Exception {
    // what OrderedGms is for: without it the stack below ends on the view of one
    assertThat(lastViewBelow(new GMS())).isEqualTo(0);
  }

  /** Races view 0 (self alone, held on its way down) against view 1 (self and the joiner); returns the id last seen below GMS. */
  private long lastViewBelow(GMS gms) throws Exception {
    CountDownLatch view0Below = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    List<Long> seen = new CopyOnWriteArrayList<>();
    Protocol below = new Protocol() {
      @Override
      public Object down(Event evt) {
        if (evt.getType() == Event.VIEW_CHANGE) {
          long id = ((View) evt.getArg()).getViewId().getId();
          if (id == 0) {
            view0Below.countDown();
            await(release);
          }
          seen.add(id);
        }
        return down_prot.down(evt);
      }
    };
    try (JChannel ch = new JChannel(new SHARED_LOOPBACK(), new SHARED_LOOPBACK_PING(), new NAKACK2(), below, gms)) {
      gms.setAddress(self);
      CompletableFuture<Void> first = CompletableFuture.runAsync(() -> gms.installView(View.create(self, 0, self)));
      assertThat(view0Below.await(10, TimeUnit.SECONDS)).isTrue();
      CompletableFuture<Void> second = CompletableFuture.runAsync(() -> gms.installView(View.create(self, 1, self, joiner)));
      // plain GMS passes view 1 down now; OrderedGms holds it until view 0 has passed (this wait then times out)
      try {
        second.get(500, TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.TimeoutException expected) {
        // OrderedGms
      }
      release.countDown();
      first.get(10, TimeUnit.SECONDS);
      second.get(10, TimeUnit.SECONDS);
    }
    return seen.get(seen.size() - 1);
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
