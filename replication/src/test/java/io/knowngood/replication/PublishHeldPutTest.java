package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.infinispan.commands.write.PutKeyValueCommand;
import org.infinispan.context.InvocationContext;
import org.infinispan.factories.ComponentRegistry;
import org.infinispan.interceptors.AsyncInterceptorChain;
import org.infinispan.interceptors.DDAsyncInterceptor;
import org.infinispan.configuration.cache.CacheMode;
import org.junit.jupiter.api.Test;

/**
 * HealBench split-after-merge: the publisher's {@code cache.put} waited up to 10 s for a cache
 * topology (ISPN000071) and the HTTP publish answered after its timeout although the store held the
 * bundle. Here an interceptor holds the publisher's replicated put the way the topology wait does (an
 * incomplete stage, without blocking a thread): publish must still answer within publishTimeout and
 * the other member must get the version by anti-entropy (the archive pushed right after the have,
 * so no pull is needed).
 */
class PublishHeldPutTest {
  private static final Duration PUBLISH_TIMEOUT = Duration.ofSeconds(4);

  /** Holds every non-local put of one key until released, like a command waiting for a topology. */
  static final class HoldPuts extends DDAsyncInterceptor {
    final String key;
    final CompletableFuture<Void> release = new CompletableFuture<>();

    HoldPuts(String key) {
      this.key = key;
    }

    @Override
    public Object visitPutKeyValueCommand(InvocationContext ctx, PutKeyValueCommand command) {
      if (key.equals(command.getKey()) && !command.hasAnyFlag(org.infinispan.context.impl.FlagBitSets.CACHE_MODE_LOCAL)) {
        return asyncInvokeNext(ctx, command, release);
      }
      return invokeNext(ctx, command);
    }
  }

  @Test
  void publish_whileReplicatedPutWaitsForTopology_answersInTimeAndPeerGetsItPushedWithTheHave() {
    try (TestCluster cluster = TestCluster.create("held-put", 2, new TestBundles(),
        new InfinispanMesh.Options(CacheMode.REPL_ASYNC, true, true, true), i -> new MeshConfig.Plaintext(),
        MeshConfig.Timings.forLocalTesting().withPublishTimeout(PUBLISH_TIMEOUT)
            .withAntiEntropyInterval(Duration.ofMinutes(10), Duration.ZERO))) {
      cluster.startAll();
      cluster.awaitClustered();
      HoldPuts hold = new HoldPuts("app");
      ComponentRegistry.componentOf(cluster.mesh(0).cache(), AsyncInterceptorChain.class).addInterceptor(hold, 0);
      try {
        CompletableFuture<PublishOutcome> publishing = CompletableFuture.supplyAsync(() -> cluster.publish(0, "app", 1));

        await("publish answers while the put is held").atMost(PUBLISH_TIMEOUT.plusSeconds(5)).until(publishing::isDone);
        PublishOutcome outcome = publishing.join();
        assertThat(outcome.complete()).as("confirmed by the peer: %s", outcome).isTrue();
        assertThat(cluster.store(1).version("app")).isEqualTo(1);
        assertThat(cluster.mesh(1).stats().storedBySource()).containsEntry("anti-entropy", 1L);
        // it came pushed with the publisher's have, not by a pull HAVE_GRACE later
        assertThat(cluster.mesh(1).stats().pullsSent()).isZero();
      } finally {
        hold.release.complete(null);
      }
    }
  }
}
