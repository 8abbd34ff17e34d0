package io.knowngood.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.testkit.Ci;
import io.knowngood.testkit.fault.NetworkFaults;
import io.knowngood.testkit.fault.ProcessFaults;
import io.knowngood.testkit.process.NodeProcess;
import io.knowngood.testkit.run.ChaosRun;
import io.knowngood.testkit.cluster.ChaosCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The chaos tier's two-site scenario: sites east and west of two real kgnode processes each
 * (127.0.0.211-214, ports 18710-18913), the workload publishing to random nodes of both sites and
 * fetching from all, and the WAN faults: cut both ways, cut one way, each site's master killed. The
 * same checkers as the one-mesh tier: nothing invalid served, no version served goes down, every node of
 * both sites converges after each heal. -Dchaos.seed=N replays.
 */
class SitesChaosTest {

    @Test
    void twoSites_underWanFaults_serveOnlyVerifiedNeverRegressAndConverge() throws Exception {
        Assumptions.assumeTrue(Ci.available(NodeProcess.jarMissing()), NodeProcess.jarMissing());
        long seed = Long.getLong("chaos.seed", 20261201L);
        Path dir = Path.of("target", "chaos", "sites-seed-" + seed).toAbsolutePath();
        ChaosRun run = new ChaosRun(seed, dir, NodeProcess.jar(), 4, ChaosCluster.ipBaseProperty(211), 18710,
                Duration.ofSeconds(3), Duration.ofSeconds(30)).sites(List.of("east", "west"));

        ChaosRun.Report report = run.run(ChaosRun.select(List.of(
                NetworkFaults.WanDrop.cut("east", "west"),
                NetworkFaults.WanDrop.oneWay("west", "east"),
                new ProcessFaults.KillSiteMaster("east"),
                new ProcessFaults.KillSiteMaster("west")), System.getProperty(ChaosRun.FAULTS_PROPERTY), Set.of()), 1);

        System.out.println(report.table());
        assertThat(report.unverified()).as("responses that fail verification").isEmpty();
        assertThat(report.regressions()).as("served versions that went down").isEmpty();
        assertThat(report.unavailable()).as("failed fetches from nodes that were up and held the bundle").isEmpty();
        assertThat(report.notConverged()).as("heals that did not converge").isEmpty();
        assertThat(report.cycles()).hasSize(4);
    }
}
