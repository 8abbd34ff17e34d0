package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.knowngood.crypto.bundle.VerifiedBundle;
import io.knowngood.crypto.bundle.VerifyResult;
import java.time.Duration;
import org.infinispan.configuration.cache.CacheMode;
import org.infinispan.conflict.ConflictManager;
import org.infinispan.conflict.ConflictManagerFactory;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Two seeders, one on each side of a split, publish two different bundles with the same version.
 * After the heal every store (not only the cache) holds the deterministic winner: the lower
 * manifest digest.
 */
class SameVersionTieTest {
  private static final Logger log = LoggerFactory.getLogger(SameVersionTieTest.class);
  private static final String NAME = "seeded";

  /**
   * Through the cache: Infinispan's merge writes the winner to both members (run by hand if the
   * automatic conflict resolution skipped this merge, as in {@link ConvergenceMechanismsTest}), and
   * the member that holds the loser offers the winner to its store because it beats what is held.
   */
  @Test
  void heal_afterTwoSeedersPublishedOneVersion_bothStoresHoldTheLowerDigest() {
    try (TestCluster cluster = TestCluster.plaintext("tie", 2, new TestBundles()).startAll()) {
      VersionStamp winner = splitPublishTieHeal(cluster);
      boolean[] manual = {false};
      await("both stores on the lower digest").atMost(Duration.ofSeconds(60)).pollDelay(Duration.ofSeconds(2))
          .pollInterval(Duration.ofSeconds(2)).ignoreExceptions().until(() -> {
            if (bothHold(cluster, winner)) {
              return true;
            }
            ConflictManager<String, byte[]> cm = ConflictManagerFactory.get(cluster.mesh(0).cache().getAdvancedCache());
            if (!cm.isConflictResolutionInProgress() && !cm.isStateTransferInProgress()) {
              manual[0] = true;
              cm.resolveConflicts();
            }
            return bothHold(cluster, winner);
          });
      log.info("tie converged {}", manual[0] ? "after a manual conflict resolution" : "by the automatic merge");
      for (int i = 0; i < 2; i++) {
        VerifyResult r = cluster.bundles.verifier.verify(cluster.mesh(i).cache().get(NAME));
        assertThat(Ingest.stampOf(((VerifyResult.Verified) r).bundle())).isEqualTo(winner);
      }
    }
  }

  /**
   * Anti-entropy alone: the two stores hold different bundles of one version that the cache never
   * carried (stored directly, as a restart with a data dir would), so only a digest round can
   * reconcile them, and only if it pulls a same-version lower digest.
   */
  @Test
  void storesDifferingOnlyByATie_convergeToTheLowerDigest_byAntiEntropyAlone() {
    try (TestCluster cluster = TestCluster.create("tie-ae", 2, new TestBundles(),
        new InfinispanMesh.Options(CacheMode.REPL_ASYNC, true, true, false), i -> new MeshConfig.Plaintext()).startAll()) {
      cluster.awaitClustered();
      VerifiedBundle left = cluster.bundles.verified(cluster.bundles.archive(NAME, 5, "seeded on the left"));
      VerifiedBundle right = cluster.bundles.verified(cluster.bundles.archive(NAME, 5, "seeded on the right"));
      cluster.store(0).store(left);
      cluster.store(1).store(right);
      VersionStamp winner = Ingest.stampOf(left).beats(Ingest.stampOf(right)) ? Ingest.stampOf(left) : Ingest.stampOf(right);

      await("both stores on the lower digest").atMost(Duration.ofSeconds(20)).until(() -> bothHold(cluster, winner));
      assertThat(cluster.mesh(0).stats().storedBySource().getOrDefault("anti-entropy", 0L)
          + cluster.mesh(1).stats().storedBySource().getOrDefault("anti-entropy", 0L)).isEqualTo(1);
    }
  }

  /** Splits 0|1, publishes a different bundle with version 5 on each side, heals; returns the winner's stamp. */
  private static VersionStamp splitPublishTieHeal(TestCluster cluster) {
    cluster.awaitClustered();
    Partition.split(cluster.meshes(0), cluster.meshes(1));
    cluster.awaitViews(0);
    cluster.awaitViews(1);
    VerifiedBundle left = cluster.bundles.verified(cluster.bundles.archive(NAME, 5, "seeded on the left"));
    VerifiedBundle right = cluster.bundles.verified(cluster.bundles.archive(NAME, 5, "seeded on the right"));
    assertThat(cluster.store(0).store(left)).isInstanceOf(Admission.Stored.class);
    cluster.mesh(0).publish(left);
    assertThat(cluster.store(1).store(right)).isInstanceOf(Admission.Stored.class);
    cluster.mesh(1).publish(right);
    VersionStamp winner = Ingest.stampOf(left).beats(Ingest.stampOf(right)) ? Ingest.stampOf(left) : Ingest.stampOf(right);
    assertThat(winner.version()).isEqualTo(5);
    assertThat(cluster.store(0).stamp(NAME)).isNotEqualTo(cluster.store(1).stamp(NAME));
    Partition.heal(cluster.meshes);
    cluster.awaitClustered();
    return winner;
  }

  private static boolean bothHold(TestCluster cluster, VersionStamp winner) {
    return cluster.store(0).stamp(NAME).equals(java.util.Optional.of(winner))
        && cluster.store(1).stamp(NAME).equals(java.util.Optional.of(winner));
  }
}
