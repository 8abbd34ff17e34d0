package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link Ingest} without a cache: what arrives by replication and by anti-entropy, and what is verified. */
class IngestTest {
  private final TestBundles bundles = new TestBundles();
  private final InMemoryLocalBundles local = new InMemoryLocalBundles();
  private final Counters counters = new Counters();
  private final Ingest ingest = new Ingest("n1", bundles.verifier, local, counters, (name, stamp) -> { });

  @AfterEach
  void close() {
    ingest.close();
  }

  private boolean received(byte[] archive) throws Exception {
    CompletableFuture<Boolean> accepted = new CompletableFuture<>();
    ingest.archiveReceived("app", archive, "n2", accepted::complete);
    return accepted.get(Duration.ofSeconds(10).toMillis(), TimeUnit.MILLISECONDS);
  }

  @Test
  void bytesThatCameByTheCachePut_areNotVerifiedAgainWhenPushedToo() throws Exception {
    byte[] forged = bundles.forged("app", 2);
    ingest.cacheEntryChanged("app", forged, "replication");
    assertThat(received(forged.clone())).isFalse();
    // verified once: one rejection counted, not two
    assertThat(counters.snapshot().rejected().values().stream().mapToLong(Long::longValue).sum()).isEqualTo(1);

    byte[] good = bundles.archive("app", 3);
    ingest.cacheEntryChanged("app", good, "replication");
    assertThat(received(good.clone())).isTrue();
    assertThat(local.offered()).hasSize(1);
    assertThat(local.version("app")).isEqualTo(3);
  }

  @Test
  void otherBytes_areVerified_evenOfTheSameNameAndVersion() throws Exception {
    ingest.cacheEntryChanged("app", bundles.forged("app", 2), "replication");
    assertThat(received(bundles.tampered("app", 2))).isFalse();
    assertThat(counters.snapshot().rejected().values().stream().mapToLong(Long::longValue).sum()).isEqualTo(2);
    assertThat(received(bundles.archive("app", 2))).isTrue();
    assertThat(local.version("app")).isEqualTo(2);
  }
}
