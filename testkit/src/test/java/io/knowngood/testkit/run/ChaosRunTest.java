package io.knowngood.testkit.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.knowngood.testkit.cluster.ChaosCluster;
import io.knowngood.testkit.fault.Fault;
import io.knowngood.testkit.process.NodeProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A fault that cannot run here fails a strict (CI) run before any node starts. */
class ChaosRunTest {
    /** Never runnable; injecting it would be a bug in ChaosRun. */
    private static final Fault IMPOSSIBLE = new Fault() {
        public String name() {
            return "impossible";
        }

        public String unavailableBecause() {
            return "needs a kernel feature this machine lacks";
        }

        public List<NodeProcess> inject(ChaosCluster cluster, Random random) {
            throw new AssertionError("an unavailable fault was injected");
        }

        public void heal(ChaosCluster cluster) {
        }
    };

    @Test
    void strictRun_withAFaultThatCannotRun_failsBeforeAnyNodeStarts(@TempDir Path dir) {
        Path cluster = dir.resolve("cluster");
        ChaosRun run = new ChaosRun(1, cluster, dir.resolve("no-such.jar"), 3, 21, 17400, Duration.ofSeconds(1), Duration.ofSeconds(1))
                .strict(true);

        assertThatThrownBy(() -> run.run(List.of(IMPOSSIBLE), 1))
                .isInstanceOf(AssertionError.class).hasMessageContaining("impossible").hasMessageContaining("kernel feature");
        assertThat(Files.exists(cluster)).as("no cluster was set up").isFalse();
    }
}
