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
 * The soak tier of the rollback scenario, only with -Pchaos-soak: {@code -Dchaos.rollout.cycles=N}
 * (default 30) failing canary versions under isolate-one, split-in-two and kill -9, then the
 * isolated-canary case, and the same checkers as {@link RolloutChaosTest}.
 * {@code mvn -B -ntp -pl chaos-tests -am verify -Pchaos-soak -Dchaos.soak.tests=RolloutChaosSoakTest [-Dchaos.rollout.cycles=N]
 * [-Dchaos.seed=N] [-Dchaos.ipBase=N]}
 */
class RolloutChaosSoakTest {
    @Test
    void soak_failingCanaryVersions() throws Exception {
        Assumptions.assumeTrue(Ci.available(NodeProcess.jarMissing()), NodeProcess.jarMissing());
        long seed = Long.getLong("chaos.seed", 20261125L);
        int cycles = Integer.getInteger("chaos.rollout.cycles", 30);
        Path dir = Path.of("target", "chaos", "rollout-soak-" + seed).toAbsolutePath();
        RolloutRun run = new RolloutRun(seed, dir, NodeProcess.jar(), ChaosCluster.ipBaseProperty(RolloutChaosTest.IP_BASE),
                RolloutChaosTest.PORT_BASE, Duration.ofSeconds(2), Duration.ofSeconds(30)).strict(true);

        RolloutRun.Report report = run.run(List.of(new NetworkFaults.IsolateOne(), new NetworkFaults.SplitInTwo(),
                new ProcessFaults.KillNine()), cycles, true);

        RolloutChaosTest.assertPassed(report);
        assertThat(report.cycles()).hasSize(cycles + 1);
    }
}
