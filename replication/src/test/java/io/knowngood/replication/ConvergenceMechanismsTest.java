package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.knowngood.crypto.bundle.VerifyResult;
import java.time.Duration;
import java.util.stream.IntStream;
import org.infinispan.configuration.cache.CacheMode;
import org.infinispan.conflict.ConflictManager;
import org.infinispan.conflict.ConflictManagerFactory;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Each convergence mechanism on its own, on three members split 1|2 with writes on both sides:
 * anti-entropy alone (Infinispan conflict resolution off) must converge every store, with no help;
 * Infinispan's merge alone (anti-entropy off) converges when its conflict resolution runs.
 */
class ConvergenceMechanismsTest {
  private static final Logger log = LoggerFactory.getLogger(ConvergenceMechanismsTest.class);

  @Test
  void heal_withAntiEntropyOnly_allMembersHoldHighestVersion() {
    try (TestCluster cluster = splitWriteHeal("ae-only", new InfinispanMesh.Options(CacheMode.REPL_ASYNC, true, true, false))) {
      for (int n = 0; n < 6; n++) {
        cluster.awaitAllHold("name-" + n, expected(n));
      }
    }
  }

  /**
   * Infinispan runs conflict resolution by itself on most merges, but not all (under load it fails
   * with a SuspectException and nothing retries it): when the automatic run did not converge, the
   * test triggers it through the ConflictManager, to check what it does when it does run: write the
   * highest verified copy everywhere, which every member then verifies and stores.
   */
  @Test
  void heal_withInfinispanMergeOnly_cacheCopiesConvergeToHighestVerified() {
    try (TestCluster cluster = splitWriteHeal("merge-only", new InfinispanMesh.Options(CacheMode.REPL_ASYNC, true, false, true))) {
      boolean[] manual = {false};
      await().atMost(Duration.ofSeconds(90)).pollDelay(Duration.ofSeconds(3)).pollInterval(Duration.ofSeconds(2))
          .ignoreExceptions().until(() -> {
            if (converged(cluster)) {
              return true;
            }
            ConflictManager<String, byte[]> cm = ConflictManagerFactory.get(cluster.mesh(0).cache().getAdvancedCache());
            if (!cm.isConflictResolutionInProgress() && !cm.isStateTransferInProgress()) {
              manual[0] = true;
              cm.resolveConflicts();
            }
            return converged(cluster);
          });
      log.info("merge-only: converged, {}", manual[0] ? "after a manual conflict resolution" : "by the automatic one");
      IntStream.range(0, 3).forEach(i -> assertThat(cluster.mesh(i).stats().antiEntropyRounds()).isZero());
      for (int n = 0; n < 6; n++) {
        for (int i = 0; i < 3; i++) {
          byte[] copy = cluster.mesh(i).cache().get("name-" + n);
          VerifyResult r = cluster.bundles.verifier.verify(copy);
          assertThat(((VerifyResult.Verified) r).bundle().version()).isEqualTo(expected(n));
        }
      }
    }
  }

  /**
   * Every member's cache copy of every name verifies as the expected version: what Infinispan's merge
   * itself produces. (Stores follow through cache events; an event missed during a merge is caught by
   * the periodic rescan, which belongs to anti-entropy's rounds and is off here, so waiting on the
   * stores made this test flaky: a clean-clone CI run on 2026-12-01 had every cache copy right but one
   * store one version behind after 90 s.)
   */
  private static boolean converged(TestCluster cluster) {
    return IntStream.range(0, 6).allMatch(n -> IntStream.range(0, 3).allMatch(i -> {
      byte[] copy = cluster.mesh(i).cache().get("name-" + n);
      return copy != null && cluster.bundles.verifier.verify(copy) instanceof VerifyResult.Verified v
          && v.bundle().version() == expected(n);
    }));
  }

  private static long expected(int n) {
    return n % 2 == 0 ? 3 : 4;
  }

  /** Member 0 alone raises even names to 3; members 1 and 2 raise odd names to 4 and even ones to 2. */
  private static TestCluster splitWriteHeal(String name, InfinispanMesh.Options options) {
    TestCluster cluster = TestCluster.create(name, 3, new TestBundles(), options, i -> new MeshConfig.Plaintext()).startAll();
    try {
      cluster.awaitClustered();
      for (int n = 0; n < 6; n++) {
        cluster.publish(n % 3, "name-" + n, 1);
      }
      Partition.split(cluster.meshes(0), cluster.meshes(1, 2));
      cluster.awaitViews(0);
      cluster.awaitViews(1, 2);
      for (int n = 0; n < 6; n++) {
        if (n % 2 == 0) {
          cluster.publish(0, "name-" + n, 3);
          cluster.publish(1 + n % 2, "name-" + n, 2);
        } else {
          cluster.publish(1 + n % 2, "name-" + n, 4);
        }
      }
      long healAt = System.nanoTime();
      Partition.heal(cluster.meshes);
      cluster.awaitClustered();
      log.info("{}: merged view {} ms after heal", name, (System.nanoTime() - healAt) / 1_000_000);
      return cluster;
    } catch (RuntimeException | Error e) {
      cluster.close();
      throw e;
    }
  }
}
