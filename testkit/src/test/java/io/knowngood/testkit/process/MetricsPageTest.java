package io.knowngood.testkit.process;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MetricsPageTest {

    static final String PAGE = """
            # HELP jvm_gc_collection_seconds Time spent in a given JVM garbage collector in seconds.
            # TYPE jvm_gc_collection_seconds summary
            jvm_gc_collection_seconds_count{gc="Copy"} 34
            jvm_gc_collection_seconds_count{gc="MarkSweepCompact"} 2
            jvm_memory_committed_bytes{area="heap"} 4.194304E7
            kgnode_long_poll_waiters 5
            kgnode_rollout_controls_rejected_total{reason="invalid_control",source="peer"} 3.0
            kgnode_fetch_duration_seconds_bucket{route="file",le="+Inf"} 12
            """;

    @Test
    void readsNamesLabelsAndValues() {
        MetricsPage p = MetricsPage.parse(PAGE);
        assertThat(p.samples()).hasSize(6);
        assertThat(p.value("kgnode_long_poll_waiters")).hasValue(5);
        assertThat(p.value("jvm_memory_committed_bytes", "area=\"heap\"")).hasValue(41943040);
        assertThat(p.value("kgnode_rollout_controls_rejected_total", "source=\"peer\"", "reason=\"invalid_control\"")).hasValue(3);
        assertThat(p.value("kgnode_fetch_duration_seconds_bucket", "le=\"+Inf\"")).hasValue(12);
    }

    @Test
    void sumsOverLabels_andMissesWhatIsNotThere() {
        MetricsPage p = MetricsPage.parse(PAGE);
        assertThat(p.sum("jvm_gc_collection_seconds_count")).isEqualTo(36);
        assertThat(p.sum("jvm_gc_collection_seconds_count", "gc=\"Copy\"")).isEqualTo(34);
        assertThat(p.value("kgnode_rollout_controls_rejected_total", "source=\"admin\"")).isEmpty();
        assertThat(p.value("jvm_gc_collection_seconds")).as("a name is matched whole").isEmpty();
        assertThat(p.sum("nothing")).isZero();
    }
}
