package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.knowngood.crypto.bundle.BundleVerifier;
import io.knowngood.crypto.bundle.Limits;
import io.knowngood.crypto.bundle.TrustedKeys;
import io.knowngood.crypto.bundle.VerifiedBundle;
import io.knowngood.crypto.bundle.VerifyResult;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A rogue member that trusts its own key: its store holds bundles signed by that key, which it
 * advertises in its anti-entropy digests (v99), serves on pulls and publishes. Honest members pull
 * once, reject, never ask for that stamp again, and never store any of it.
 */
class RogueAntiEntropyTest {

  @Test
  void rogueMember_advertisesAndServesForgedVersions_honestMembersNeverStoreThem() {
    TestBundles bundles = new TestBundles();
    try (TestCluster cluster = TestCluster.plaintext("rogue", 3, bundles)) {
      BundleVerifier rogueTrust = new BundleVerifier(
          TrustedKeys.of(List.of(bundles.publisher.getPublic(), bundles.stranger.getPublic())), Limits.defaults());
      InMemoryLocalBundles rogueStore = cluster.store(2);
      rogueStore.store(verified(rogueTrust, bundles.forged("app", 99)));
      cluster.start(0);
      cluster.start(1);
      cluster.awaitViews(0, 1);
      cluster.publish(0, "app", 1);
      cluster.awaitAllHold("app", 1, 0, 1);

      InfinispanMesh rogue = new InfinispanMesh(cluster.configs.get(2), rogueTrust, rogueStore, Clock.systemUTC(),
          InfinispanMesh.Options.production());
      cluster.meshes.set(2, rogue);
      rogue.start();
      cluster.awaitClustered();
      rogue.publish(verified(rogueTrust, bundles.forged("app2", 100)));

      // an asynchronous put from a member that is still joining may not reach every member: count at least the pull
      await().atMost(TestCluster.WAIT).until(() -> rogue.stats().antiEntropyRounds() >= 4
          && cluster.mesh(0).stats().rejected().getOrDefault("untrusted_key", 0L) >= 1
          && cluster.mesh(1).stats().rejected().getOrDefault("untrusted_key", 0L) >= 1);
      for (int honest : new int[] {0, 1}) {
        assertThat(cluster.store(honest).version("app")).isEqualTo(1);
        assertThat(cluster.store(honest).highest("app2")).isEmpty();
        assertThat(cluster.store(honest).offered()).allSatisfy(b -> assertThat(b.version()).isEqualTo(1));
        // each claimed stamp is pulled once (app v99, app2 v100) plus app2 once by replication: not on every round
        assertThat(cluster.mesh(honest).stats().rejected().get("untrusted_key")).isBetween(1L, 3L);
      }
    }
  }

  private static VerifiedBundle verified(BundleVerifier verifier, byte[] archive) {
    return ((VerifyResult.Verified) verifier.verify(archive)).bundle();
  }
}
