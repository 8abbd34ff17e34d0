package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.knowngood.crypto.bundle.BundlePacker;
import io.knowngood.crypto.bundle.VerifiedBundle;
import io.knowngood.crypto.bundle.VerifyResult;
import java.time.Clock;
import java.util.List;
import org.infinispan.Cache;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** One three-member cluster shared by the tests of this class (each test uses its own bundle names). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MeshClusterTest {
  private final TestBundles bundles = new TestBundles();
  private TestCluster cluster;

  @BeforeAll
  void startCluster() {
    cluster = TestCluster.plaintext("three", 3, bundles).startAll();
    cluster.awaitClustered();
  }

  @AfterAll
  void stopCluster() {
    cluster.close();
  }

  @Test
  void publish_onThreeMembers_allHoldItAndPublishSaysSo() {
    PublishOutcome out = cluster.publish(0, "alpha", 1);

    assertThat(out).isEqualTo(new PublishOutcome("alpha", 1, 3, 3, true));
    cluster.awaitAllHold("alpha", 1);
    MeshView view = cluster.mesh(1).view();
    assertThat(view.state()).isEqualTo(MeshState.CLUSTERED);
    assertThat(view.partitioned()).isFalse();
    assertThat(view.members()).hasSize(3).filteredOn(MemberInfo::self).singleElement()
        .extracting(MemberInfo::id).isEqualTo("three-1");
    assertThat(view.coordinator()).isPresent();
    assertThat(view.lastContact()).isPresent();
    await().atMost(TestCluster.WAIT).untilAsserted(() -> assertThat(cluster.mesh(2).memberDigests())
        .hasSize(3).allSatisfy((member, digest) -> assertThat(digest.get("alpha").version()).isEqualTo(1)));
  }

  /**
   * A write stamped with a topology the receiver lacks holds the sender's other messages (views,
   * heartbeats) on the receiver for up to remoteTimeout (CacheManagers.remoteTimeout): it must stay
   * below the failure timeout, else that stall reads as a dead member.
   */
  @Test
  void asyncCaches_holdASendersMessagesForATopologyLessThanTheFailureTimeout() {
    long failureTimeout = MeshConfig.Timings.forLocalTesting().failureTimeout().toMillis();
    for (var c : java.util.List.of(cluster.mesh(0).cache(), cluster.mesh(0).recordsCache())) {
      var clustering = c.getCacheConfiguration().clustering();
      assertThat(clustering.cacheMode().isSynchronous()).as(c.getName()).isFalse();
      assertThat(clustering.remoteTimeout()).as(c.getName()).isEqualTo(failureTimeout / 8);
    }
  }

  @Test
  void publish_newerVersion_replacesEverywhere() {
    cluster.publish(1, "beta", 1);
    cluster.awaitAllHold("beta", 1);
    PublishOutcome out = cluster.publish(2, "beta", 2);
    assertThat(out.complete()).isTrue();
    cluster.awaitAllHold("beta", 2);
    assertThat(cluster.store(0).highest("beta").orElseThrow().archiveBytes()).isEqualTo(
        cluster.store(2).highest("beta").orElseThrow().archiveBytes());
  }

  /**
   * Memory: a held bundle sits in a member's memory once. The publisher's cache entry is its store's
   * verified array, and a receiver's store keeps the very array its cache holds (no defensive copy).
   */
  @Test
  void heldBundle_cacheAndStoreShareOneArray_onPublisherAndReceivers() {
    cluster.publish(0, "epsilon", 1);
    cluster.awaitAllHold("epsilon", 1);
    for (int i = 0; i < 3; i++) {
      int member = i;
      await().atMost(TestCluster.WAIT).untilAsserted(() -> {
        byte[] cached = Ingest.unwrap(cluster.mesh(member).cache().getAdvancedCache().getDataContainer().peek("epsilon").getValue());
        assertThat(cached).as("member %d", member)
            .isSameAs(cluster.store(member).highest("epsilon").orElseThrow().sharedArchive());
      });
    }
  }

  @Test
  void publish_retiredTombstone_replicatesLikeAnyVersionAndNothingIsDeleted() {
    cluster.publish(0, "delta", 1);
    cluster.awaitAllHold("delta", 1);
    VerifiedBundle tombstone = bundles.verified(BundlePacker.packRetired("delta", 2, bundles.publisher.getPrivate(),
        Clock.systemUTC()));
    cluster.store(1).store(tombstone);

    assertThat(cluster.mesh(1).publish(tombstone).complete()).isTrue();
    cluster.awaitAllHold("delta", 2);
    for (int i = 0; i < 3; i++) {
      assertThat(cluster.store(i).highest("delta").orElseThrow().retired()).isTrue();
      assertThat(cluster.mesh(i).cache().containsKey("delta")).isTrue();
    }
  }

  /**
   * An admitted member writes straight into the replicated cache, bypassing every check: a forged
   * signature, tampered content, garbage, an older valid version, a valid bundle under another
   * name. No other member offers any of it to its store, and their cache copies are repaired.
   */
  @Test
  void rogueMember_forgedOldUnsignedRenamedEntries_areNeverExposed() {
    cluster.publish(0, "gamma", 3);
    cluster.awaitAllHold("gamma", 3);
    byte[] older = bundles.archive("gamma", 1);
    Cache<String, byte[]> rogue = cluster.mesh(2).cache();

    rogue.put("gamma", bundles.forged("gamma", 9));
    rogue.put("gamma", bundles.tampered("gamma", 10));
    rogue.put("gamma", new byte[] {1, 2, 3});
    rogue.put("gamma", older);
    rogue.put("gamma-renamed", bundles.archive("gamma", 11));
    rogue.put("gamma-forged", bundles.forged("gamma-forged", 1));

    for (int honest : new int[] {0, 1}) {
      await().atMost(TestCluster.WAIT).untilAsserted(() -> {
        MeshStats stats = cluster.mesh(honest).stats();
        assertThat(stats.rejected()).containsKeys("untrusted_key", "name_mismatch", "stale");
        assertThat(stats.rejectedTotal()).isGreaterThanOrEqualTo(5);
        // the honest copy is back in the cache
        assertThat(versionOf(cluster.mesh(honest).cache().get("gamma"))).isEqualTo(3);
      });
      InMemoryLocalBundles store = cluster.store(honest);
      assertThat(store.version("gamma")).isEqualTo(3);
      assertThat(store.highest("gamma-renamed")).isEmpty();
      assertThat(store.highest("gamma-forged")).isEmpty();
      List<VerifiedBundle> offered = store.offered();
      assertThat(offered).allSatisfy(b -> {
        assertThat(b.signerKeyIds()).containsExactlyElementsOf(
            bundles.verifier.trust().ids().stream().toList());
        assertThat(b.version()).isLessThanOrEqualTo(3);
      });
      assertThat(offered).noneMatch(b -> b.name().startsWith("gamma-"));
    }
  }

  private long versionOf(byte[] archive) {
    if (archive == null) {
      return 0;
    }
    VerifyResult r = bundles.verifier.verify(archive);
    return r instanceof VerifyResult.Verified v ? v.bundle().version() : -1;
  }
}
