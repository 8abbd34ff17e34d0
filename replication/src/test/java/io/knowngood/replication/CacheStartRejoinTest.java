package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import org.infinispan.configuration.cache.CacheMode;
import org.junit.jupiter.api.Test;

/**
 * The restart hang (docs/chaos.md, docs/replication.md "Rejoin"), made on demand: a member's cache
 * start is held after its channel has joined. Meanwhile anti-entropy refills its store; a start held
 * beyond the bound is abandoned and joined again, and the member becomes ready.
 */
class CacheStartRejoinTest {
  /** "Within seconds" on a loaded two-core machine: a have is pulled after 1 s, rounds run every 2-2.5 s. */
  private static final Duration REFILL = Duration.ofSeconds(10);

  @Test
  void cacheStartHeld_memberIsRefilledByAntiEntropy_beforeItsCacheStarts() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CacheStartHold hold = (node, attempt) -> {
      if (node.equals("held-1") && attempt == 1) {
        release.await();
      }
    };
    try (TestCluster cluster = cluster("held", Duration.ofMinutes(5), hold)) {
      cluster.start(0);
      await().atMost(TestCluster.WAIT).until(cluster.mesh(0)::isReady);
      cluster.publish(0, "desktop", 1);
      InfinispanMesh held = cluster.start(1);
      await("member 1's channel joined").atMost(TestCluster.WAIT)
          .until(() -> held.lifecycle() == MeshLifecycle.CONNECTED && held.channel().view().size() == 2);

      // published before and during the hold: both reach the held member by anti-entropy alone
      cluster.publish(0, "printers", 3);
      await("refilled while the cache start is held").atMost(REFILL)
          .until(() -> cluster.store(1).version("desktop") == 1 && cluster.store(1).version("printers") == 3);
      assertThat(held.lifecycle()).isEqualTo(MeshLifecycle.CONNECTED);
      assertThat(held.cache()).isNull();
      assertThat(held.view().state()).isEqualTo(MeshState.STARTING);
      assertThat(held.stats().storedBySource()).containsEntry("anti-entropy", 2L);

      // and what the held member publishes reaches the others, counted against its real view
      PublishOutcome out = cluster.publish(1, "vpn", 1);
      assertThat(out.membersInView()).isEqualTo(2);
      await("published by the held member").atMost(REFILL).until(() -> cluster.store(0).version("vpn") == 1);

      release.countDown();
      cluster.awaitClustered();
      assertThat(held.view().state()).isEqualTo(MeshState.CLUSTERED);
      cluster.publish(0, "desktop", 2);
      cluster.awaitAllHold("desktop", 2);
    }
  }

  @Test
  void cacheStartBeyondTheBound_isAbandonedAndRetried_thenTheMemberIsReady() {
    List<Integer> attempts = new CopyOnWriteArrayList<>();
    CacheStartHold hold = (node, attempt) -> {
      if (node.equals("retry-1")) {
        attempts.add(attempt);
        if (attempt == 1) {
          new CountDownLatch(1).await(); // a start that never returns by itself: ends when abandoned
        }
      }
    };
    try (TestCluster cluster = cluster("retry", Duration.ofSeconds(3), hold)) {
      cluster.start(0);
      await().atMost(TestCluster.WAIT).until(cluster.mesh(0)::isReady);
      InfinispanMesh retried = cluster.start(1);
      await("member 1's channel joined").atMost(TestCluster.WAIT)
          .until(() -> retried.lifecycle() == MeshLifecycle.CONNECTED);
      cluster.publish(0, "desktop", 1);

      cluster.awaitClustered();
      assertThat(attempts).containsExactly(1, 2);
      // the abandoned attempt's channel and anti-entropy were replaced, and the new ones work
      cluster.awaitAllHold("desktop", 1);
      cluster.publish(1, "desktop", 2);
      cluster.awaitAllHold("desktop", 2);
      assertThat(cluster.mesh(0).view().members()).hasSize(2);
    }
  }

  @Test
  void memberLeavesWhileTheCacheStartWaits_startIsRetriedSoonAfter_notAtTheBound() {
    List<Integer> attempts = new CopyOnWriteArrayList<>();
    CacheStartHold hold = (node, attempt) -> {
      if (node.equals("loss-2")) {
        attempts.add(attempt);
        if (attempt == 1) {
          new CountDownLatch(1).await(); // like a join that Infinispan dropped: it never ends by itself
        }
      }
    };
    try (TestCluster cluster = cluster("loss", 3, Duration.ofMinutes(5), hold)) {
      cluster.start(0);
      cluster.start(1);
      cluster.awaitViews(0, 1);
      InfinispanMesh waiting = cluster.start(2);
      await("member 2's channel joined").atMost(TestCluster.WAIT)
          .until(() -> waiting.lifecycle() == MeshLifecycle.CONNECTED && waiting.channel().view().size() == 3);

      long t0 = System.nanoTime();
      cluster.stop(1);
      await("ready after the loss, long before the 5 min bound")
          .atMost(InfinispanMesh.JOIN_AFTER_LOSS.plus(TestCluster.WAIT)).until(waiting::isReady);
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(InfinispanMesh.JOIN_AFTER_LOSS);
      assertThat(attempts).containsExactly(1, 2);
      cluster.awaitViews(0, 2);
    }
  }

  private static TestCluster cluster(String name, Duration bound, CacheStartHold hold) {
    return cluster(name, 2, bound, hold);
  }

  private static TestCluster cluster(String name, int size, Duration bound, CacheStartHold hold) {
    return TestCluster.create(name, size, new TestBundles(),
        new InfinispanMesh.Options(CacheMode.REPL_ASYNC, true, true, true).withCacheStart(bound, hold),
        i -> new MeshConfig.Plaintext());
  }
}
