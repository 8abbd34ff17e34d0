package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The hand-over path (docs/replication.md, "Start and rejoin"): a READY coordinator leaves and joins
 * again so another member coordinates. The condition that triggers it in production (Infinispan
 * 16.1.4 skipping a view to recover from) cannot be made on demand, so the test asks for the hand-over
 * through the mesh's seam; {@link CoordinationWatchTest} covers when it is asked for.
 */
class CoordinationHandOverTest {

  @Test
  void aCoordinatorThatHandsOver_isReadyAgainAsAMember_andPublishesAndRecordsFlowBothWays() {
    try (TestCluster cluster = TestCluster.plaintext("handover", 3, new TestBundles()).startAll()) {
      cluster.awaitClustered();
      int c = cluster.coordinatorIndex();
      String oldCoordinator = cluster.configs.get(c).nodeId();
      int other = (c + 1) % 3;
      cluster.publish(c, "desktop", 1);
      cluster.awaitAllHold("desktop", 1);

      InfinispanMesh handing = cluster.mesh(c);
      handing.requestHandOver();
      await("handed over").atMost(TestCluster.WAIT).until(() -> handing.stats().coordinationHandOvers() == 1);
      cluster.awaitClustered();
      assertThat(cluster.mesh(other).view().coordinator()).get().isNotEqualTo(oldCoordinator);
      assertThat(handing.lifecycle()).isEqualTo(MeshLifecycle.READY);

      cluster.publish(c, "desktop", 2);
      cluster.awaitAllHold("desktop", 2);
      cluster.publish(other, "printers", 1);
      cluster.awaitAllHold("printers", 1);
      handing.records().putOwn("ho/after", "x".getBytes(StandardCharsets.UTF_8));
      await("its record reaches the others").atMost(TestCluster.WAIT).until(() ->
          cluster.mesh(other).records().snapshot().getOrDefault("ho/after", java.util.Map.of()).containsKey(oldCoordinator));

      // a second request within the spacing is refused: a mistaken hand-over cannot become a loop
      handing.requestHandOver();
      await().pollDelay(InfinispanMesh.WATCH_INTERVAL.multipliedBy(2)).atMost(TestCluster.WAIT).until(() -> true);
      assertThat(handing.stats().coordinationHandOvers()).isEqualTo(1);
      assertThat(handing.lifecycle()).isEqualTo(MeshLifecycle.READY);
    }
  }

}
