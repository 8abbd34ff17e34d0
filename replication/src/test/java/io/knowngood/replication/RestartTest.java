package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import org.junit.jupiter.api.Test;

/** A member restarting alone comes up with what its own store had, and hands it on to whoever joins. */
class RestartTest {

  @Test
  void restart_alone_comesUpWithWhatItHad_andPassesItOn() {
    TestBundles bundles = new TestBundles();
    try (TestCluster cluster = TestCluster.plaintext("restart", 2, bundles)) {
      cluster.startAll();
      cluster.awaitClustered();
      cluster.publish(0, "desktop", 1);
      cluster.publish(1, "printers", 2);
      cluster.awaitAllHold("desktop", 1);
      cluster.awaitAllHold("printers", 2);
      cluster.stop(0);
      cluster.stop(1);

      InfinispanMesh alone = cluster.start(0);
      await().atMost(TestCluster.WAIT).until(alone::isReady);
      MeshView view = alone.view();
      assertThat(view.state()).isEqualTo(MeshState.ALONE);
      assertThat(view.partitioned()).isTrue();
      assertThat(alone.memberDigests().get("restart-0")).containsOnlyKeys("desktop", "printers");
      await().atMost(TestCluster.WAIT).until(() -> alone.cache().get("printers") != null);

      // the other host comes back with an empty disk: it gets everything from the survivor
      cluster.stores.set(1, new InMemoryLocalBundles());
      cluster.start(1);
      cluster.awaitClustered();
      cluster.awaitAllHold("desktop", 1);
      cluster.awaitAllHold("printers", 2);
      PublishOutcome out = cluster.publish(1, "desktop", 2);
      assertThat(out.membersHolding()).isEqualTo(2);
      cluster.awaitAllHold("desktop", 2);
    }
  }
}
