package io.knowngood.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.testkit.Ci;
import io.knowngood.testkit.cluster.ChaosCluster;
import io.knowngood.testkit.fault.EnvFaults;
import io.knowngood.testkit.fault.NetworkFaults;
import io.knowngood.testkit.fault.ProcessFaults;
import io.knowngood.testkit.fault.StoreFaults;
import io.knowngood.testkit.process.NodeProcess;
import io.knowngood.testkit.run.ChaosRun;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The CI tier: three real kgnode processes, every fault at least once, from a fixed seed (override
 * with -Dchaos.seed=N to replay; -Dchaos.cycles=N for more cycles per fault, as the soak profile
 * does; -Dchaos.faults=a,b for only those kinds; -Dchaos.ipBase=N to run on 127.0.0.N.. instead of
 * 127.0.0.21.., beside another run). Network faults need root and are skipped with a message
 * otherwise, except under CI=true, where a fault that cannot run fails the run.
 */
class ChaosCiTest {
    /**
     * Fault kinds runnable only by name (-Dchaos.faults=...), kept out of this tier (one cycle each,
     * where a fault that misses now and then would fail CI at random). None now. bridge-relay was here
     * until 2026-12-06: it missed in 6 of 34 soak cycles on 2026-12-01 and in 1 of 34 on 2026-12-06
     * (a member cut off but still in view froze its node, fixed in 907e408 and f66fc6f); since the fix
     * four soaks with four seeds (20261208-20261211, 136 cycles) missed none, and it has run here since.
     */
    static final Set<String> NOT_YET_BY_DEFAULT = Set.of();

    @Test
    void mesh_underEveryFault_servesOnlyVerifiedNeverRegressesAndConverges() throws Exception {
        Assumptions.assumeTrue(Ci.available(NodeProcess.jarMissing()), NodeProcess.jarMissing());
        Path jar = NodeProcess.jar();
        long seed = Long.getLong("chaos.seed", 20261125L);
        int cycles = Integer.getInteger("chaos.cycles", 1);
        Path dir = Path.of("target", "chaos", "seed-" + seed).toAbsolutePath();
        ChaosRun run = new ChaosRun(seed, dir, jar, 3, ChaosCluster.ipBaseProperty(21), 17400, Duration.ofSeconds(2), Duration.ofSeconds(30));

        ChaosRun.Report report = run.run(ChaosRun.select(List.of(
                new NetworkFaults.IsolateOne(),
                new NetworkFaults.SplitInTwo(),
                new NetworkFaults.OneWayDrop(),
                new NetworkFaults.Bridge(),
                new NetworkFaults.PacketLoss(),
                new ProcessFaults.KillNine(),
                new ProcessFaults.Pause(),
                new ProcessFaults.RestartAlone(),
                new StoreFaults.CorruptServedCopy(),
                new StoreFaults.RestoreOldBackup(),
                new StoreFaults.DiskFull(),
                new EnvFaults.ClockSkew(),
                new EnvFaults.NoDns(),
                new EnvFaults.PublisherDown(),
                new RogueWriter(),
                new NetworkFaults.BridgeRelay()), System.getProperty(ChaosRun.FAULTS_PROPERTY), NOT_YET_BY_DEFAULT), cycles);

        System.out.println(report.table());
        if (!report.skipped().isEmpty()) {
            System.out.println("SKIPPED faults: " + report.skipped());
        }
        assertThat(report.unverified()).as("responses that fail verification").isEmpty();
        assertThat(report.regressions()).as("served versions that went down").isEmpty();
        assertThat(report.unavailable()).as("failed fetches from nodes that were up and held the bundle").isEmpty();
        assertThat(report.notConverged()).as("heals that did not converge").isEmpty();
        assertThat(report.faultViolations()).as("properties checked by the faults themselves").isEmpty();
        assertThat(report.cycles()).isNotEmpty();
    }
}
