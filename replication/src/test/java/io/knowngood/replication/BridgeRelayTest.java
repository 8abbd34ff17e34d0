package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A and B cannot hear each other, C hears both: an update published on A reaches B through C while
 * the cut lasts. A is the coordinator, so it excludes B from its view and C follows, while B, which
 * never gets that view, keeps the old one: their views disagree, each drops the other's multicasts
 * as from a non-member, and anti-entropy's unicast rounds (and haves to members heard outside the
 * view) carry the update. Before that, B stayed without it until the heal.
 */
class BridgeRelayTest {
  private static final Logger log = LoggerFactory.getLogger(BridgeRelayTest.class);

  @Test
  void cutBetweenCoordinatorAndB_publishOnCoordinator_reachesBThroughC() {
    publishedOnOneSide_reachesTheOtherThroughC("bridge", true);
  }

  @Test
  void cutBetweenCoordinatorAndB_publishOnB_reachesTheCoordinatorThroughC() {
    publishedOnOneSide_reachesTheOtherThroughC("bridge-back", false);
  }

  /** A (the coordinator) and B cut from each other; publishes on A ({@code onCoordinator}) or on B, awaits the other side. */
  private static void publishedOnOneSide_reachesTheOtherThroughC(String clusterName, boolean onCoordinator) {
    try (TestCluster cluster = TestCluster.plaintext(clusterName, 3, new TestBundles())) {
      cluster.startAll();
      cluster.awaitClustered();
      int a = cluster.coordinatorIndex();
      int b = (a + 1) % 3;
      int c = (a + 2) % 3;
      Partition.split(List.of(cluster.mesh(a)), List.of(cluster.mesh(b)));
      await("A's view without B").atMost(TestCluster.WAIT)
          .until(() -> !cluster.mesh(a).channel().view().containsMember(cluster.mesh(b).channel().getAddress()));
      log.info("views: A {}, B {}, C {}", cluster.mesh(a).channel().view(), cluster.mesh(b).channel().view(),
          cluster.mesh(c).channel().view());
      int from = onCoordinator ? a : b;
      int to = onCoordinator ? b : a;

      long publishedAt = System.nanoTime();
      CompletableFuture<PublishOutcome> out = CompletableFuture.supplyAsync(() -> cluster.publish(from, "app", 1));
      await((onCoordinator ? "B" : "A") + " holds app v1 through C").atMost(Duration.ofSeconds(15))
          .pollInterval(Duration.ofMillis(20)).until(() -> cluster.store(to).version("app") == 1);
      log.info("{} stored app v1 {} ms after the publish on {}, the cut still in place", onCoordinator ? "B" : "A",
          (System.nanoTime() - publishedAt) / 1_000_000, onCoordinator ? "A" : "B");
      assertThat(cluster.store(c).version("app")).isEqualTo(1);
      out.join();
    }
  }

}
