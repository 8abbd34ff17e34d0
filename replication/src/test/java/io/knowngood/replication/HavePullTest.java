package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.knowngood.crypto.bundle.VerifiedBundle;
import java.time.Duration;
import java.util.HexFormat;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * A "have" for a version this member lacks leads to a pull when the replicated put does not come
 * (HealBench one-way-drop: the put was held up 10 s by Infinispan's topology wait and then failed,
 * and the copy came only with the next periodic round). The cache's replication is bypassed here:
 * the announcing member stores the bundle and only multicasts the have; periodic rounds are 10 min
 * apart, so nothing else can deliver it. Bounded: a member flooding haves for versions it does not
 * have fills only its own share of the awaited versions, and the drops are counted.
 */
class HavePullTest {
  private static final Duration WAIT = Duration.ofSeconds(15);

  @Test
  void have_withoutReplicatedCopy_versionIsPulledFromAnnouncer() {
    try (TestCluster cluster = quietCluster("have-pull", 2)) {
      long rounds0 = cluster.mesh(0).stats().antiEntropyRounds();
      long rounds1 = cluster.mesh(1).stats().antiEntropyRounds();

      announceOnly(cluster, 0, cluster.bundles.bundle("app", 1), true);

      await("app v1 pulled by member 1").atMost(WAIT).until(() -> cluster.store(1).version("app") == 1);
      assertThat(cluster.mesh(1).stats().storedBySource()).containsEntry("anti-entropy", 1L);
      assertThat(cluster.mesh(1).stats().pullsSent()).isGreaterThanOrEqualTo(1);
      // no digest round delivered it
      assertThat(cluster.mesh(0).stats().antiEntropyRounds()).isEqualTo(rounds0);
      assertThat(cluster.mesh(1).stats().antiEntropyRounds()).isEqualTo(rounds1);
      await().atMost(WAIT).until(() -> cluster.mesh(1).antiEntropy().awaitedVersions() == 0);
    }
  }

  @Test
  void have_firstAnnouncerDoesNotAnswer_versionIsPulledFromAnotherAnnouncer() {
    try (TestCluster cluster = quietCluster("have-retry", 3)) {
      VerifiedBundle b = cluster.bundles.bundle("app", 1);
      // member 0 announces a version it does not hold: its answer to the pull is empty
      announceOnly(cluster, 0, b, false);
      await().atMost(WAIT).until(() -> cluster.mesh(2).antiEntropy().awaitedVersions() == 1);
      announceOnly(cluster, 1, b, true);

      await("app v1 pulled by member 2 from member 1").atMost(WAIT).until(() -> cluster.store(2).version("app") == 1);
      assertThat(cluster.mesh(2).stats().pullsSent()).isGreaterThanOrEqualTo(2);
      assertThat(cluster.mesh(2).stats().storedBySource()).containsEntry("anti-entropy", 1L);
    }
  }

  @Test
  void haveFlood_fromOneMember_staysBoundedAndOthersHavesStillPull() {
    try (TestCluster cluster = quietCluster("have-flood", 3)) {
      int flood = Reconciler.MAX_AWAITED_PER_MEMBER * 4;
      AntiEntropy rogue = cluster.mesh(1).antiEntropy();
      AntiEntropy honest = cluster.mesh(0).antiEntropy();
      int[] most = {0};
      for (int i = 0; i < flood; i++) {
        rogue.broadcastHave(String.format("flood-%05d", i), new VersionStamp(7, HexFormat.of().formatHex(new byte[32])));
        most[0] = Math.max(most[0], honest.awaitedVersions());
      }
      long dropped = flood - Reconciler.MAX_AWAITED_PER_MEMBER;
      await("flood counted").atMost(WAIT).until(() -> {
        most[0] = Math.max(most[0], honest.awaitedVersions());
        return cluster.mesh(0).stats().rejected().getOrDefault(Reconciler.HAVE_OVER_LIMIT, 0L) >= dropped;
      });
      assertThat(cluster.mesh(0).stats().rejected().get(Reconciler.HAVE_OVER_LIMIT)).isEqualTo(dropped);
      assertThat(most[0]).isLessThanOrEqualTo(Reconciler.MAX_AWAITED_PER_MEMBER);

      // another member's have is not crowded out by the flood
      announceOnly(cluster, 2, cluster.bundles.bundle("app", 1), true);
      await("app v1 pulled by member 0 during the flood").atMost(WAIT).until(() -> cluster.store(0).version("app") == 1);

      // unanswered pulls give up: nothing stays awaited, and the flood cost a bounded number of pulls
      await("awaited versions drained").atMost(WAIT.multipliedBy(2)).until(() -> honest.awaitedVersions() == 0);
      assertThat(cluster.mesh(0).stats().pullsSent())
          .isLessThanOrEqualTo((long) Reconciler.MAX_AWAITED_PER_MEMBER * Reconciler.MAX_PULL_ATTEMPTS + 1);
      assertThat(cluster.store(0).highest("flood-00000")).isEmpty();
    }
  }

  /** Clustered members whose periodic rounds are 10 min apart, after the rounds their joining triggered. */
  private static TestCluster quietCluster(String name, int size) {
    TestCluster cluster = TestCluster.plaintext(name, size, new TestBundles(),
        MeshConfig.Timings.forLocalTesting().withAntiEntropyInterval(Duration.ofMinutes(10), Duration.ZERO));
    try {
      cluster.startAll();
      cluster.awaitClustered();
      // the rounds a view change triggers run 50-300 ms after it
      await("join rounds").pollDelay(Duration.ofMillis(600)).atMost(TestCluster.WAIT).until(() -> IntStream.range(0, size)
          .allMatch(i -> cluster.mesh(i).stats().antiEntropyRounds() >= 1));
      return cluster;
    } catch (RuntimeException | Error e) {
      cluster.close();
      throw e;
    }
  }

  /** Member {@code i} announces {@code b} with a have only (no cache put), holding it if {@code store}. */
  private static void announceOnly(TestCluster cluster, int i, VerifiedBundle b, boolean store) {
    if (store) {
      cluster.store(i).store(b);
    }
    cluster.mesh(i).antiEntropy().broadcastHave(b.name(), Ingest.stampOf(b));
  }
}
