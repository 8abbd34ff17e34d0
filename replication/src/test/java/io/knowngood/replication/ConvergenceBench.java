package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;
import org.awaitility.Awaitility;
import org.infinispan.configuration.cache.CacheMode;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Measurements for docs/benchmarks-replication.md, not part of {@code mvn verify}:
 * {@code mvn -B -ntp -pl replication -am verify -Pbench} (or {@code -Dbench.cycles=N}).
 * <ol>
 *   <li>Convergence after heal: five members split 2|3, each side publishes new versions of the
 *   same names, heal; time from heal to every store holding the winner of every name.</li>
 *   <li>Publish latency, asynchronous vs synchronous replication, in a healthy cluster and right
 *   after a split that failure detection has not noticed yet.</li>
 * </ol>
 */
class ConvergenceBench {
  private static final Logger log = LoggerFactory.getLogger(ConvergenceBench.class);
  private static final int NAMES = 10;
  /** What production runs with; the join timeout does not matter for these measurements. */
  private static final MeshConfig.Timings LAN = MeshConfig.Timings.forLan();
  private final StringBuilder report = new StringBuilder();

  @Test
  void bench() throws IOException {
    int cycles = Integer.getInteger("bench.cycles", 20);
    convergenceAfterHeal(cycles);
    publishLatency(CacheMode.REPL_ASYNC);
    publishLatency(CacheMode.REPL_SYNC);
    Path out = Path.of("target", "benchmarks-replication.md");
    Files.writeString(out, report.toString());
    log.info("report written to {}\n{}", out.toAbsolutePath(), report);
  }

  private void convergenceAfterHeal(int cycles) {
    TestBundles bundles = new TestBundles();
    List<Long> mergedView = new ArrayList<>();
    List<Long> converged = new ArrayList<>();
    List<Long> splitNoticed = new ArrayList<>();
    try (TestCluster c = TestCluster.create("bench", 5, bundles,
        new InfinispanMesh.Options(CacheMode.REPL_ASYNC, true, true, true), i -> new MeshConfig.Plaintext(), LAN)) {
      c.startAll();
      c.awaitClustered();
      for (int cycle = 0; cycle < cycles; cycle++) {
        long t0 = System.nanoTime();
        Partition.split(c.meshes(0, 1), c.meshes(2, 3, 4));
        c.awaitViews(0, 1);
        c.awaitViews(2, 3, 4);
        splitNoticed.add(ms(t0));
        long base = 10L * cycle;
        for (int n = 0; n < NAMES; n++) {
          // minority wins even names, majority odd ones
          c.publish(n % 2, "n" + n, base + (n % 2 == 0 ? 5 : 3));
          c.publish(2 + n % 3, "n" + n, base + (n % 2 == 0 ? 4 : 6));
        }
        long heal = System.nanoTime();
        Partition.heal(c.meshes);
        Awaitility.await().atMost(TestCluster.WAIT).pollInterval(Duration.ofMillis(20))
            .until(() -> IntStream.range(0, 5).allMatch(i -> c.mesh(i).view().members().size() == 5));
        mergedView.add(ms(heal));
        Awaitility.await().atMost(TestCluster.WAIT).pollInterval(Duration.ofMillis(20))
            .until(() -> IntStream.range(0, NAMES).allMatch(n -> IntStream.range(0, 5)
                .allMatch(i -> c.store(i).version("n" + n) == base + (n % 2 == 0 ? 5 : 6))));
        converged.add(ms(heal));
        log.info("cycle {}: split noticed {} ms, merged view {} ms, converged {} ms", cycle,
            splitNoticed.get(cycle), mergedView.get(cycle), converged.get(cycle));
        c.awaitClustered();
      }
    }
    report.append("## Convergence after heal (5 members, 2|3 split, ").append(NAMES)
        .append(" names written on both sides, ").append(cycles).append(" cycles, Timings.forLan())\n\n")
        .append("| measure | p50 ms | p99 ms | max ms |\n|---|---|---|---|\n")
        .append(row("split noticed (both sides see their own view)", splitNoticed))
        .append(row("heal to merged view on all 5", mergedView))
        .append(row("heal to every store holding every winner", converged)).append('\n');
    assertThat(percentile(converged, 99)).as("p99 convergence").isLessThan(10_000);
  }

  private void publishLatency(CacheMode mode) {
    TestBundles bundles = new TestBundles();
    List<Long> healthy = new ArrayList<>();
    List<Long> duringSplit = new ArrayList<>();
    List<String> splitOutcomes = new ArrayList<>();
    try (TestCluster c = TestCluster.create("lat-" + mode.name().toLowerCase(Locale.ROOT), 3, bundles,
        new InfinispanMesh.Options(mode, true, true, true), i -> new MeshConfig.Plaintext(), LAN)) {
      c.startAll();
      c.awaitClustered();
      for (int v = 1; v <= 20; v++) {
        long t0 = System.nanoTime();
        PublishOutcome o = c.publish(0, "lat", v);
        healthy.add(ms(t0));
        assertThat(o.complete()).isTrue();
      }
      long next = 100;
      for (int round = 0; round < 5; round++) {
        c.awaitClustered();
        Partition.split(c.meshes(0), c.meshes(1, 2));
        long t0 = System.nanoTime();
        PublishOutcome o = c.publish(0, "lat", next++);
        duringSplit.add(ms(t0));
        splitOutcomes.add(o.membersHolding() + "/" + o.membersInView());
        Partition.heal(c.meshes);
      }
    }
    report.append("## Publish latency, ").append(mode).append(" (3 members, publish timeout 5 s)\n\n")
        .append("| situation | p50 ms | p99 ms | max ms |\n|---|---|---|---|\n")
        .append(row("healthy cluster, until all 3 confirm", healthy))
        .append(row("just after a split (publisher alone vs 2), not yet detected", duringSplit))
        .append("\nHolding/in view reported by the publishes during the split: ").append(splitOutcomes).append("\n\n");
  }

  private static String row(String what, List<Long> samples) {
    return "| " + what + " | " + percentile(samples, 50) + " | " + percentile(samples, 99) + " | "
        + Collections.max(samples) + " |\n";
  }

  /** Nearest-rank percentile. */
  static long percentile(List<Long> samples, int p) {
    List<Long> sorted = new ArrayList<>(samples);
    Collections.sort(sorted);
    int rank = (int) Math.ceil(p / 100.0 * sorted.size());
    return sorted.get(Math.max(0, rank - 1));
  }

  private static long ms(long since) {
    return (System.nanoTime() - since) / 1_000_000;
  }
}
