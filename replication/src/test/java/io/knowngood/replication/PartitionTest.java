package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Five members split 2|3, both sides keep reading and writing, and the heal converges every name. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PartitionTest {
  private static final Logger log = LoggerFactory.getLogger(PartitionTest.class);
  private static final int NAMES = 12;
  private final TestBundles bundles = new TestBundles();
  private TestCluster cluster;

  @BeforeAll
  void startCluster() {
    cluster = TestCluster.plaintext("five", 5, bundles).startAll();
    cluster.awaitClustered();
  }

  @AfterAll
  void stopCluster() {
    cluster.close();
  }

  @Test
  void heal_afterSplit_allMembersHoldHighestVersion() {
    for (int n = 0; n < NAMES; n++) {
      cluster.publish(n % 5, "cfg-" + n, 1);
    }
    for (int n = 0; n < NAMES; n++) {
      cluster.awaitAllHold("cfg-" + n, 1);
    }

    Partition.split(cluster.meshes(0, 1), cluster.meshes(2, 3, 4));
    // before failure detection notices: the publish still answers in bounded time, counting its side only
    long splitAt = System.nanoTime();
    PublishOutcome undetected = cluster.publish(4, "cfg-0", 2);
    assertThat(Duration.ofNanos(System.nanoTime() - splitAt))
        .isLessThan(cluster.configs.get(4).publishTimeout().plusSeconds(1));
    assertThat(undetected.membersHolding()).isBetween(1, 3);
    cluster.awaitViews(0, 1);
    cluster.awaitViews(2, 3, 4);
    MeshView minority = cluster.mesh(0).view();
    assertThat(minority.state()).isEqualTo(MeshState.PARTITIONED);
    assertThat(minority.partitioned()).isTrue();
    assertThat(minority.members()).hasSize(2);

    // both sides write: the minority raises even names to 3, the majority raises all names to 2 and odd ones to 4
    List<PublishOutcome> outcomes = new ArrayList<>();
    long slowest = 0;
    for (int n = 0; n < NAMES; n++) {
      long t0 = System.nanoTime();
      if (n != 0) {
        outcomes.add(cluster.publish(2 + n % 3, "cfg-" + n, n % 2 == 0 ? 2 : 4));
      }
      if (n % 2 == 0) {
        outcomes.add(cluster.publish(n % 2, "cfg-" + n, 3));
      }
      slowest = Math.max(slowest, System.nanoTime() - t0);
    }
    assertThat(Duration.ofNanos(slowest)).isLessThan(cluster.configs.get(0).publishTimeout().multipliedBy(2));
    assertThat(outcomes).allSatisfy(o -> {
      assertThat(o.membersHolding()).isEqualTo(o.membersInView());
      assertThat(o.membersInView()).isIn(2, 3);
      assertThat(o.complete()).isTrue();
    });
    // both sides readable: each holds its own side's latest
    assertThat(cluster.store(0).version("cfg-0")).isEqualTo(3);
    assertThat(cluster.store(3).version("cfg-0")).isEqualTo(2);
    cluster.awaitAllHold("cfg-1", 4, 2, 3, 4);
    assertThat(cluster.store(1).version("cfg-1")).isEqualTo(1);

    long healAt = System.nanoTime();
    Partition.heal(cluster.meshes);
    for (int n = 0; n < NAMES; n++) {
      cluster.awaitAllHold("cfg-" + n, n % 2 == 0 ? 3 : 4);
    }
    log.info("converged {} names on 5 members {} ms after heal", NAMES, (System.nanoTime() - healAt) / 1_000_000);
    cluster.awaitClustered();
    assertThat(cluster.mesh(4).view().state()).isEqualTo(MeshState.CLUSTERED);
    // the cache copies converge too, and every member reports every other one's digest
    await().atMost(TestCluster.WAIT).untilAsserted(() -> IntStream.range(0, 5).forEach(i ->
        assertThat(cluster.mesh(i).memberDigests()).hasSize(5).allSatisfy((member, digest) ->
            assertThat(digest.get("cfg-" + (NAMES - 1)).version()).isEqualTo(4))));
    assertThat(IntStream.range(0, 5).mapToLong(i -> cluster.mesh(i).stats().rejectedTotal()
        - cluster.mesh(i).stats().rejected().getOrDefault("stale", 0L)).sum())
        .describedAs("rejections per member: %s", IntStream.range(0, 5).mapToObj(i -> cluster.mesh(i).stats().rejected())
            .toList())
        .isZero();
  }
}
