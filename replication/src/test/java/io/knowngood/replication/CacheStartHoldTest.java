package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The failpoint the chaos regression test sets on a real node (a contract: name, unit, first attempt only). */
class CacheStartHoldTest {

  @AfterEach
  void clear() {
    System.clearProperty(CacheStartHold.FAILPOINT);
  }

  @Test
  void failpoint_unsetZeroOrGarbage_holdsNothing() {
    assertThat(CacheStartHold.fromSystemProperty()).isSameAs(CacheStartHold.NONE);
    System.setProperty(CacheStartHold.FAILPOINT, "0");
    assertThat(CacheStartHold.fromSystemProperty()).isSameAs(CacheStartHold.NONE);
    System.setProperty(CacheStartHold.FAILPOINT, "ten seconds");
    assertThat(CacheStartHold.fromSystemProperty()).isSameAs(CacheStartHold.NONE);
  }

  @Test
  void failpoint_holdsTheFirstAttemptForItsMilliseconds_only() throws InterruptedException {
    assertThat(CacheStartHold.FAILPOINT).isEqualTo("knowngood.failpoint.cacheStartDelayMs");
    System.setProperty(CacheStartHold.FAILPOINT, "300");
    CacheStartHold hold = CacheStartHold.fromSystemProperty();

    long t0 = System.nanoTime();
    hold.hold("n1", 1);
    long first = System.nanoTime() - t0;
    t0 = System.nanoTime();
    hold.hold("n1", 2);
    long second = System.nanoTime() - t0;

    assertThat(first).isGreaterThanOrEqualTo(300_000_000L);
    assertThat(second).isLessThan(100_000_000L);
  }

  @Test
  void failpoint_isReadOnce_whenTheOptionsAreMade() throws InterruptedException {
    System.setProperty(CacheStartHold.FAILPOINT, "60000");
    InfinispanMesh.Options options = InfinispanMesh.Options.production();
    System.clearProperty(CacheStartHold.FAILPOINT);
    assertThat(options.cacheStartHold()).isNotSameAs(CacheStartHold.NONE);
    assertThat(options.cacheStartBound()).isEqualTo(InfinispanMesh.CACHE_START_BOUND);
    assertThat(InfinispanMesh.Options.production().cacheStartHold()).isSameAs(CacheStartHold.NONE);
  }

  @Test
  void failpoint_onAMeshFromMeshCreate_holdsTheCacheStartWhileTheChannelIsUp() {
    System.setProperty(CacheStartHold.FAILPOINT, "1500");
    TestBundles bundles = new TestBundles();
    MeshConfig config = new MeshConfig("fp", "fp", new InetSocketAddress(TestCluster.loopback(), TestCluster.freePortPair()),
        List.of(), new MeshConfig.Plaintext(), MeshConfig.Timings.forLocalTesting());
    try (Mesh mesh = Mesh.create(config, bundles.verifier, new InMemoryLocalBundles())) {
      System.clearProperty(CacheStartHold.FAILPOINT);
      InfinispanMesh m = (InfinispanMesh) mesh;
      mesh.start();
      await().atMost(TestCluster.WAIT).pollInterval(Duration.ofMillis(20))
          .until(() -> m.lifecycle() == MeshLifecycle.CONNECTED);
      long connected = System.nanoTime();
      await().atMost(TestCluster.WAIT).until(m::isReady);
      assertThat(System.nanoTime() - connected).isGreaterThanOrEqualTo(Duration.ofMillis(1200).toNanos());
      assertThat(mesh.view().state()).isEqualTo(MeshState.ALONE);
    }
  }
}
