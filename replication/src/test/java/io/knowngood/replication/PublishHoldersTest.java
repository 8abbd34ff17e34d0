package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.knowngood.crypto.bundle.VerifiedBundle;
import java.time.Duration;
import org.jgroups.Address;
import org.junit.jupiter.api.Test;

/**
 * "Members holding" in a publish outcome counts a member only if what it announced is exactly the
 * stamp this node holds: a member that holds the other bundle of a same-version tie has not got
 * this copy, although its version is as high (it used to be counted). A publish that lost the tie
 * (this node took the lower-digest winner meanwhile) is held by nobody.
 */
class PublishHoldersTest {

  @Test
  void publish_peerHoldsTheOtherBundleOfATie_isNotCountedAsHolding() {
    // a short publish timeout: the outcome is read before the mesh has settled the tie
    MeshConfig.Timings timings = MeshConfig.Timings.forLocalTesting().withPublishTimeout(Duration.ofMillis(900));
    try (TestCluster cluster = TestCluster.plaintext("holders", 2, new TestBundles(), timings)) {
      cluster.startAll();
      cluster.awaitClustered();
      await().atMost(TestCluster.WAIT).until(() -> cluster.publish(0, "plain", 1).complete());
      assertThat(cluster.publish(0, "plain", 2)).isEqualTo(new PublishOutcome("plain", 2, 2, 2, true));

      VerifiedBundle a = cluster.bundles.verified(cluster.bundles.archive("tie", 1, "one"));
      VerifiedBundle b = cluster.bundles.verified(cluster.bundles.archive("tie", 1, "two"));
      // this node publishes the loser of the tie, the peer already holds the winner
      VerifiedBundle winner = Ingest.stampOf(a).beats(Ingest.stampOf(b)) ? a : b;
      VerifiedBundle loser = winner == a ? b : a;
      cluster.store(1).store(winner);
      cluster.store(0).store(loser);

      PublishOutcome out = cluster.mesh(0).publish(loser);

      // the peer's winner is not this copy: never 2 of 2; and once this node has itself taken the
      // winner (the tie pull, or the store's tie rule), the published copy is held by nobody
      assertThat(out.complete()).isFalse();
      assertThat(out.membersHolding()).isLessThan(2);
      assertThat(out.membersInView()).isEqualTo(2);
      Address peer = cluster.mesh(1).channel().getAddress();
      await("the peer announced its own copy").atMost(TestCluster.WAIT)
          .until(() -> Ingest.stampOf(winner).equals(cluster.mesh(0).antiEntropy().announced(peer, "tie")));
    }
  }
}
