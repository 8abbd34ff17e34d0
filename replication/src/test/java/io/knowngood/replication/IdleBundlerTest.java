package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * An idle mesh leaves its senders idle. JGroups 5.5.2's default bundler (per destination, one sender
 * thread) counts queued messages in one counter; messages queued to a member that a view then
 * removed are dropped without being uncounted, and its sender thread spins on the count forever, a
 * whole core each (JGRP-3008, fixed in 5.5.3). Seen on 3 of 5 node processes of PropagationBench
 * after start-up's merges, and it starved every other thread of the 2-core machine. The mesh's stack
 * therefore uses the transfer-queue bundler, whose one sender thread blocks on its queue.
 */
class IdleBundlerTest {

  private static final Duration IDLE = Duration.ofSeconds(2);

  @Test
  void afterMembersJoinMergeAndLeave_whileBundlesAreSent_noSenderThreadRunsInAnIdleMesh() throws Exception {
    TestBundles bundles = new TestBundles();
    try (TestCluster cluster = TestCluster.plaintext("idle-bundler", 5, bundles).startAll()) {
      cluster.awaitClustered();
      for (long v = 1; v <= 5; v++) {
        cluster.publish((int) (v % 4), "busy", v);
      }
      // a member leaves while the others still send to it
      Thread publisher = new Thread(() -> {
        for (long v = 6; v <= 30; v++) {
          cluster.publish(0, "busy", v);
        }
      });
      publisher.start();
      cluster.stop(4);
      publisher.join(TestCluster.WAIT.toMillis());
      cluster.awaitViews(0, 1, 2, 3);
      cluster.awaitAllHold("busy", 30, 0, 1, 2, 3);

      ThreadMXBean threads = ManagementFactory.getThreadMXBean();
      Map<Long, Long> before = senderCpu(threads);
      long start = System.nanoTime();
      await().pollDelay(IDLE).atMost(IDLE.plusSeconds(5)).until(() -> true);
      long wall = System.nanoTime() - start;
      Map<Long, Long> after = senderCpu(threads);
      assertThat(after).as("the mesh's sender threads").isNotEmpty();
      for (Map.Entry<Long, Long> t : after.entrySet()) {
        long used = t.getValue() - before.getOrDefault(t.getKey(), 0L);
        ThreadInfo info = threads.getThreadInfo(t.getKey());
        assertThat(used).as("CPU of %s over %d ms of an idle mesh", info == null ? t.getKey() : info.getThreadName(), wall / 1_000_000)
            .isLessThan(wall / 20);
      }
    }
  }

  /** CPU nanoseconds of every live JGroups sender (bundler) thread, by thread id. */
  private static Map<Long, Long> senderCpu(ThreadMXBean threads) {
    Map<Long, Long> cpu = new HashMap<>();
    for (ThreadInfo t : threads.getThreadInfo(threads.getAllThreadIds())) {
      if (t != null && t.getThreadName().toLowerCase(Locale.ROOT).contains("bundler")) {
        long ns = threads.getThreadCpuTime(t.getThreadId());
        if (ns >= 0) {
          cpu.put(t.getThreadId(), ns);
        }
      }
    }
    return cpu;
  }
}
