package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.infinispan.Cache;
import org.infinispan.configuration.cache.CacheMode;
import org.infinispan.distribution.LocalizedCacheTopology;
import org.infinispan.factories.GlobalComponentRegistry;
import org.infinispan.topology.ClusterTopologyManager;
import org.junit.jupiter.api.Test;

/**
 * A member whose cache start returned while the coordinator never took it into a cache's topology
 * (the rollout soak of 2026-12-04: a node restarted after kill -9 was READY, but outside the records and
 * bundles topologies for 29 s, until the coordinator died and the next one recovered; its copy of the
 * records got no writes, so a revert reached it only then). Here the coordinator's rebalance of the
 * records cache is switched off, which leaves a joiner the same way: in the view and in the CONFIG
 * topology, outside the records topology, with a join the coordinator does not run.
 */
class StuckCacheJoinTest {
  private static final Duration STUCK = Duration.ofSeconds(4);

  @Test
  void aMemberLeftOutsideTheRecordsTopology_sendsNoHash_andIsTakenInOnceTheCoordinatorHandsOver() {
    InfinispanMesh.Options options = new InfinispanMesh.Options(CacheMode.REPL_ASYNC, true, true, true).withStuckJoin(STUCK);
    try (TestCluster cluster = TestCluster.create("stuck", 3, new TestBundles(), options, i -> new MeshConfig.Plaintext())
        .startAll()) {
      cluster.awaitClustered();
      int c = cluster.coordinatorIndex();
      int j = (c + 1) % 3;
      int other = (c + 2) % 3;
      String otherId = cluster.configs.get(other).nodeId();
      cluster.mesh(other).records().putOwn("stuck/before", "b".getBytes(StandardCharsets.UTF_8));

      ClusterTopologyManager topology = GlobalComponentRegistry.componentOf(cluster.mesh(c).manager, ClusterTopologyManager.class);
      topology.setRebalancingEnabled(CacheManagers.RECORDS, false).toCompletableFuture().join();
      cluster.stop(j);
      cluster.awaitViews(c, other);
      InfinispanMesh restarted = cluster.start(j);
      await("restarted member ready").atMost(TestCluster.WAIT).until(restarted::isReady);

      assertThat(inOwnTopology(restarted.recordsCache())).as("taken into the records topology while its rebalance is off").isFalse();
      // outside the topology its copy gets no writes: a hash of it would only make the peers write again, to no avail
      assertThat(((RecordsCheck) restarted.records()).copyHashOf(otherId)).isNull();

      await("the coordinator hands over").atMost(TestCluster.WAIT)
          .until(() -> cluster.mesh(c).stats().coordinationHandOvers() == 1);
      await("taken into the records topology by the next coordinator").atMost(TestCluster.WAIT)
          .until(() -> inOwnTopology(restarted.recordsCache()));
      cluster.awaitClustered();
      await("a record written before the restart reaches it").atMost(TestCluster.WAIT).until(() ->
          restarted.records().snapshot().getOrDefault("stuck/before", Map.of()).containsKey(otherId));
      cluster.mesh(other).records().putOwn("stuck/after", "a".getBytes(StandardCharsets.UTF_8));
      await("and one written after").atMost(TestCluster.WAIT).until(() ->
          restarted.records().snapshot().getOrDefault("stuck/after", Map.of()).containsKey(otherId));
    }
  }

  @Test
  void aMemberWhoseCacheStartIsStillToCome_isNoStuckJoin() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CacheStartHold hold = (node, attempt) -> {
      if (node.equals("later-1") && attempt == 1) {
        release.await();
      }
    };
    InfinispanMesh.Options options = new InfinispanMesh.Options(CacheMode.REPL_ASYNC, true, true, true)
        .withCacheStart(Duration.ofMinutes(5), hold).withStuckJoin(STUCK);
    try (TestCluster cluster = TestCluster.create("later", 2, new TestBundles(), options, i -> new MeshConfig.Plaintext())) {
      InfinispanMesh coordinator = cluster.start(0);
      await().atMost(TestCluster.WAIT).until(coordinator::isReady);
      InfinispanMesh held = cluster.start(1);
      await("member 1's channel joined").atMost(TestCluster.WAIT)
          .until(() -> held.lifecycle() == MeshLifecycle.CONNECTED && held.channel().view().size() == 2);
      // in the CONFIG topology, not yet in the bundles and records ones, for three times the bound: it has
      // not asked to join them, and the coordinator's rebalance of both is complete
      await().pollDelay(STUCK.multipliedBy(3)).atMost(STUCK.multipliedBy(4)).until(() -> true);
      assertThat(coordinator.stats().coordinationHandOvers()).isZero();
      release.countDown();
      cluster.awaitClustered();
      assertThat(coordinator.stats().coordinationHandOvers()).isZero();
    }
  }

  private static boolean inOwnTopology(Cache<String, byte[]> cache) {
    LocalizedCacheTopology t = cache.getAdvancedCache().getDistributionManager().getCacheTopology();
    return t.getCurrentCH().getMembers().contains(t.getLocalAddress()) && t.getPendingCH() == null;
  }
}
