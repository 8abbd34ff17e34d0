package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.infinispan.configuration.cache.CacheMode;
import org.infinispan.context.Flag;
import org.junit.jupiter.api.Test;

/**
 * A write of a member's records lost on one peer (Infinispan drops an asynchronous write a member
 * cannot apply in time, ISPN000638) with no membership change after it: the peer's anti-entropy
 * rounds carry the hash of its copy of the writer's records, and the writer writes them all again.
 * On a real 2-member cluster, with the rewriting of recent records switched off, so that nothing else
 * could repair the copy.
 */
class RecordsCheckTest {
  private final TestBundles bundles = new TestBundles();

  @Test
  void aWriteLostOnAPeer_isWrittenAgainByItsWriter_afterTheCopiesDifferedForARound() {
    InfinispanMesh.Options options = new InfinispanMesh.Options(CacheMode.REPL_ASYNC, true, true, true)
        .withRecordsRecent(Duration.ZERO);
    try (TestCluster cluster = TestCluster.create("rchk", 2, bundles, options, i -> new MeshConfig.Plaintext()).startAll()) {
      cluster.awaitClustered();
      MeshRecords writer = cluster.mesh(0).records();
      MeshRecords peer = cluster.mesh(1).records();
      String writerId = cluster.configs.get(0).nodeId();
      writer.putOwn("chk/a", bytes("1"));
      writer.putOwn("chk/b", bytes("2"));
      await("the peer holds the writer's records").atMost(TestCluster.WAIT).until(() -> holds(peer, writerId, "chk/b", "2"));
      // in sync: rounds go on, and nobody writes everything again (the checks name the right members)
      long roundsBefore = cluster.mesh(1).stats().antiEntropyRounds();
      await("two rounds on the peer").atMost(TestCluster.WAIT).until(() -> cluster.mesh(1).stats().antiEntropyRounds() >= roundsBefore + 2);
      assertThat(cluster.mesh(0).stats().recordRepushes()).as("copies equal: no push").isZero();

      // the peer's copy loses one of the writer's records, as a dropped write would leave it
      cluster.mesh(1).recordsCache().getAdvancedCache().withFlags(Flag.CACHE_MODE_LOCAL, Flag.SKIP_OWNERSHIP_CHECK)
          .put(writerId + ReplicatedRecords.SEPARATOR + "chk/b", bytes("stale"));
      await("the peer sees the stale value").atMost(TestCluster.WAIT).until(() -> holds(peer, writerId, "chk/b", "stale"));

      await("the writer writes its records again and the peer holds them").atMost(TestCluster.WAIT)
          .until(() -> holds(peer, writerId, "chk/b", "2"));
      assertThat(cluster.mesh(0).stats().recordRepushes()).isEqualTo(1);
      assertThat(holds(peer, writerId, "chk/a", "1")).isTrue();
    }
  }

  private static boolean holds(MeshRecords records, String member, String key, String value) {
    Map<String, byte[]> byMember = records.snapshot().get(key);
    return byMember != null && byMember.get(member) != null && new String(byMember.get(member), StandardCharsets.UTF_8).equals(value);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
