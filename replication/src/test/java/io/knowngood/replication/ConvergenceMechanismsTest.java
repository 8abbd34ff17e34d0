package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.crypto.bundle.VerifyResult;
import java.util.stream.IntStream;
import org.infinispan.configuration.cache.CacheMode;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Each convergence mechanism on its own, on three members split 1|2 with writes on both sides:
 * anti-entropy alone (Infinispan conflict resolution off) must converge every store; Infinispan's
 * merge alone (anti-entropy off) is what the cache adds, measured here for what it does.
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

  @Test
  void heal_withInfinispanMergeOnly_cacheCopiesConvergeToHighestVerified() {
    try (TestCluster cluster = splitWriteHeal("merge-only", new InfinispanMesh.Options(CacheMode.REPL_ASYNC, true, false, true))) {
      // conflict resolution writes the winner to every member; each member verifies it on receipt
      for (int n = 0; n < 6; n++) {
        cluster.awaitAllHold("name-" + n, expected(n));
      }
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
