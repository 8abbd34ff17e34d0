package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.infinispan.configuration.cache.CacheMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A mesh closed while its cache manager is still starting (a node stopped in its first seconds, as
 * {@code systemctl restart} or Ctrl-C in the demo do): the start is let end, no cache starts after
 * it, and the manager is stopped whole. Stopped in the middle, Infinispan failed the start and logged
 * errors with stack traces (ISPN000660, ISPN000710) that read like a crash. The member's one peer is
 * never started, so its channel looks for it for the whole join timeout: a wide, certain window.
 */
class CloseWhileStartingTest {
  private static final Duration JOIN_TIMEOUT = Duration.ofSeconds(2);

  private final ByteArrayOutputStream logged = new ByteArrayOutputStream();
  private PrintStream stderr;

  @BeforeEach
  void teeStderr() {
    // slf4j-simple writes each line to whatever System.err is at the time (not cached)
    PrintStream original = System.err;
    stderr = original;
    OutputStream both = new OutputStream() {
      @Override
      public synchronized void write(int c) {
        write(new byte[] {(byte) c}, 0, 1);
      }

      @Override
      public synchronized void write(byte[] buf, int off, int len) {
        original.write(buf, off, len);
        logged.write(buf, off, len);
      }
    };
    System.setErr(new PrintStream(both, true, StandardCharsets.UTF_8));
  }

  @AfterEach
  void restoreStderr() {
    System.setErr(stderr);
  }

  @Test
  void closedWhileItsManagerStarts_theStartEnds_noCacheStarts_andNothingIsLoggedAsAnError() {
    try (TestCluster cluster = oneOfTwo("closing", JOIN_TIMEOUT)) {
      InfinispanMesh mesh = startedIntoItsManagersStart(cluster);
      Thread worker = mesh.current.worker;
      assertThat(mesh.lifecycle()).as("still looking for its peer: inside the manager's start").isEqualTo(MeshLifecycle.CONNECTING);

      long t0 = System.nanoTime();
      mesh.close();
      Duration took = Duration.ofNanos(System.nanoTime() - t0);

      assertThat(worker.isAlive()).isFalse();
      assertThat(took).as("the start's end waited for, within its bound").isLessThan(InfinispanMesh.START_END_BOUND.plusSeconds(2));
      assertThat(mesh.cache()).isNull();
      assertThat(mesh.lifecycle()).isEqualTo(MeshLifecycle.CLOSED);
    }
    String log = logged.toString(StandardCharsets.UTF_8);
    String closed = "closing-0: mesh CONNECTING -> CLOSED";
    assertThat(log).contains(closed);
    String afterClose = log.substring(log.indexOf(closed));
    assertThat(afterClose).contains("closing-0: waited ", " ms for the cache manager's start to end before stopping it",
        "closing-0: mesh stopped");
    assertThat(afterClose).doesNotContain("ISPN000660", "ISPN000710", "ERROR", "WARN", "Exception");
  }

  @Test
  void aCloseWhoseBoundRunsOut_cutsTheRestShort_andEndsWithinIt() {
    Duration longJoin = Duration.ofSeconds(8); // the start would end by itself only after this
    Duration bound = Duration.ofMillis(500);
    try (TestCluster cluster = oneOfTwo("cut", longJoin)) {
      InfinispanMesh mesh = startedIntoItsManagersStart(cluster);

      long t0 = System.nanoTime();
      mesh.close(bound);
      Duration took = Duration.ofNanos(System.nanoTime() - t0);

      assertThat(took).as("within the bound, plus the channel's own close").isLessThan(bound.plusSeconds(2));
      assertThat(mesh.lifecycle()).isEqualTo(MeshLifecycle.CLOSED);
    }
    String log = logged.toString(StandardCharsets.UTF_8);
    assertThat(log).contains("cut-0: the channel did not close within the close's 500 ms", "cut-0: mesh stopped");
  }

  /** Two members of which only the first is ever started: it looks for the other for {@code joinTimeout}. */
  private static TestCluster oneOfTwo(String name, Duration joinTimeout) {
    return TestCluster.create(name, 2, new TestBundles(), new InfinispanMesh.Options(CacheMode.REPL_ASYNC, true, true, true),
        i -> new MeshConfig.Plaintext(), MeshConfig.Timings.forLocalTesting().withJoinTimeout(joinTimeout));
  }

  /** Starts the first member and returns it once its cache manager's start is under way. */
  private static InfinispanMesh startedIntoItsManagersStart(TestCluster cluster) {
    InfinispanMesh mesh = cluster.start(0);
    await("the cache manager's start under way").atMost(TestCluster.WAIT).until(() -> {
      JoinAttempt a = mesh.current;
      return a != null && a.worker != null && a.worker.isAlive();
    });
    return mesh;
  }
}
