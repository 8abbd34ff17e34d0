package io.knowngood.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.testkit.Ci;
import io.knowngood.testkit.cluster.ChaosCluster;
import io.knowngood.testkit.fault.NetworkFaults;
import io.knowngood.testkit.fault.ProcessFaults;
import io.knowngood.testkit.process.NodeProcess;
import io.knowngood.testkit.run.RolloutRun;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The CI tier of the rollback scenario (docs/chaos.md, "Health-gated rollback under chaos"): three
 * real kgnode processes; three versions in turn published to a random canary, reported failed by its
 * VMs while a partition or a kill -9 is in place, then the canary cut off alone before its reports.
 * Fixed seed (-Dchaos.seed=N to replay); addresses 127.0.0.61.. for the nodes and 127.0.61.x for the
 * reporting VMs (-Dchaos.ipBase=N moves both). Network faults need root: skipped with a message
 * otherwise, except under CI=true, where a fault that cannot run fails the run.
 */
class RolloutChaosTest {
    static final int IP_BASE = 61;
    static final int PORT_BASE = 18000;

    @Test
    void failingCanaryVersion_underPartitionsAndRestarts_isRevertedEverywhereAndNeverServedOutsideTheCanary() throws Exception {
        Assumptions.assumeTrue(Ci.available(NodeProcess.jarMissing()), NodeProcess.jarMissing());
        long seed = Long.getLong("chaos.seed", 20261125L);
        Path dir = Path.of("target", "chaos", "rollout-" + seed).toAbsolutePath();
        RolloutRun run = new RolloutRun(seed, dir, NodeProcess.jar(), ChaosCluster.ipBaseProperty(IP_BASE), PORT_BASE,
                Duration.ofSeconds(2), Duration.ofSeconds(30));

        RolloutRun.Report report = run.run(List.of(new NetworkFaults.IsolateOne(), new NetworkFaults.SplitInTwo(),
                new ProcessFaults.KillNine()), 3, true);

        assertPassed(report);
        assertThat(report.cycles()).extracting(RolloutRun.Cycle::fault).contains(RolloutRun.ISOLATED_CANARY);
    }

    static void assertPassed(RolloutRun.Report report) {
        System.out.println(report.table());
        if (!report.skipped().isEmpty()) {
            System.out.println("SKIPPED: " + report.skipped());
        }
        report.unavailable().forEach(v -> System.out.println("unavailable while up (not asserted): " + v));
        assertThat(report.unverified()).as("responses that fail verification").isEmpty();
        assertThat(report.regressions()).as("served versions that went down other than by a rollback").isEmpty();
        assertThat(report.outsideWaves()).as("reverted versions served outside the waves they reached").isEmpty();
        assertThat(report.notReverted()).as("cycles not reverted everywhere in time").isEmpty();
        assertThat(report.cycles()).isNotEmpty();
        // the checkers had something to check: the canaries' VMs fetched the bad versions, and fell back
        assertThat(report.servedBeforeRevert()).as("fetches of a version later reverted (from its canary)").isPositive();
        assertThat(report.fallbacksSeen()).as("fetches answered fallback").isPositive();
    }
}
