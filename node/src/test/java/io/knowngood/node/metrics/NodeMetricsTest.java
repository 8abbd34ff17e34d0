package io.knowngood.node.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Counting costs a serving node no thread and no timer: the Prometheus client samples exemplars by
 * default, which schedules a task on its own thread every sample interval per active data point while
 * requests flow, and kgnode has no trace context to fill them with.
 */
class NodeMetricsTest {

    /** One count or timing of each kind a node makes (requests, fetches, refusals, publishes, store, rollouts). */
    static void countEachOnce(NodeMetrics metrics) {
        metrics.request("vm", "file", 200);
        metrics.request("vm", "archive", 304);
        metrics.fetchLatency("file", 250_000);
        metrics.poolRefusal("archive");
        metrics.rejected("bad_signature", "peer");
        metrics.publish("created");
        metrics.storeError("write_failed", "disk full");
        metrics.stored(null, "publish", true); // the bundle is not looked at
        metrics.rollouts().reportCounted("ok");
        metrics.rollouts().reportRefused("rate");
        metrics.rollouts().controlRejected("admin", "invalid");
        metrics.rollouts().stateChanged("desk", 2, "good");
    }

    @Test
    void countingAndTimingRequests_startsNoSchedulerThread() {
        NodeMetrics metrics = new NodeMetrics();
        for (int i = 0; i < 1_000; i++) {
            countEachOnce(metrics);
        }

        Set<String> threads = Thread.getAllStackTraces().keySet().stream().map(Thread::getName).collect(Collectors.toSet());
        assertThat(threads).noneMatch(name -> name.startsWith("prometheus-metrics-scheduler"));
        assertThat(new String(metrics.scrape(), StandardCharsets.UTF_8))
                .contains("kgnode_http_requests_total{endpoint=\"vm\",route=\"file\",status=\"200\"} 1000")
                .contains("kgnode_fetch_duration_seconds_count{route=\"file\"} 1000");
    }
}
