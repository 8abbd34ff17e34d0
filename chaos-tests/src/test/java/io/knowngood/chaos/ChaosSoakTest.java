package io.knowngood.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.testkit.Ci;
import io.knowngood.testkit.cluster.ChaosCluster;
import io.knowngood.testkit.fault.NetworkFaults;
import io.knowngood.testkit.fault.ProcessFaults;
import io.knowngood.testkit.process.NodeProcess;
import io.knowngood.testkit.run.ChaosRun;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The soak tier, only with -Pchaos-soak: many partition/heal cycles (isolate one, split in two,
 * one-way drop) and many kill -9s, then the same checkers as the CI tier.
 * {@code mvn -B -ntp -pl chaos-tests -am verify -Pchaos-soak [-Dchaos.soak.cycles=34] [-Dchaos.seed=N]
 * [-Dchaos.faults=a,b] [-Dchaos.ipBase=N]}
 */
class ChaosSoakTest {
    @Test
    void soak_partitionsAndKills() throws Exception {
        Assumptions.assumeTrue(Ci.available(NodeProcess.jarMissing()), NodeProcess.jarMissing());
        Path jar = NodeProcess.jar();
        long seed = Long.getLong("chaos.seed", 20261125L);
        int cycles = Integer.getInteger("chaos.soak.cycles", 34);
        Path dir = Path.of("target", "chaos", "soak-" + seed).toAbsolutePath();
        ChaosRun run = new ChaosRun(seed, dir, jar, 3, ChaosCluster.ipBaseProperty(21), 17400, Duration.ofSeconds(2), Duration.ofSeconds(30));
        ProcessFaults.KillNine kill = new ProcessFaults.KillNine();

        ChaosRun.Report report = run.run(ChaosRun.select(List.of(
                new NetworkFaults.IsolateOne(), new NetworkFaults.SplitInTwo(), new NetworkFaults.OneWayDrop(),
                kill, kill, kill, new NetworkFaults.BridgeRelay()),
                System.getProperty(ChaosRun.FAULTS_PROPERTY), Set.of()), cycles);

        System.out.println(report.table());
        report.faultViolations().forEach(v -> System.out.println("fault check failed: " + v));
        report.unavailable().forEach(v -> System.out.println("unavailable while up: " + v));
        assertThat(report.skipped()).as("soak needs every fault (run as root)").isEmpty();
        assertThat(report.unverified()).isEmpty();
        assertThat(report.regressions()).isEmpty();
        assertThat(report.unavailable()).isEmpty();
        assertThat(report.notConverged()).isEmpty();
        assertThat(report.faultViolations()).isEmpty();
    }
}
