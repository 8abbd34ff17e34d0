package io.knowngood.testkit.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.knowngood.testkit.cluster.ChaosCluster;
import io.knowngood.testkit.fault.Fault;
import io.knowngood.testkit.process.NodeProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A fault that cannot run here fails a strict (CI) run before any node starts; -Dchaos.faults picks the kinds a tier runs. */
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

    private static Fault named(String name) {
        return new Fault() {
            public String name() {
                return name;
            }

            public String unavailableBecause() {
                return null;
            }

            public List<NodeProcess> inject(ChaosCluster cluster, Random random) {
                return List.of();
            }

            public void heal(ChaosCluster cluster) {
            }
        };
    }

    private static final Fault ISOLATE = named("isolate-one");
    private static final Fault KILL = named("kill-9");
    private static final Fault RELAY = named("bridge-relay");
    private static final List<Fault> CATALOGUE = List.of(ISOLATE, KILL, KILL, RELAY);

    @Test
    void select_withoutNames_runsEveryFaultButThoseOffByDefault() {
        assertThat(ChaosRun.select(CATALOGUE, null, Set.of("bridge-relay"))).containsExactly(ISOLATE, KILL, KILL);
        assertThat(ChaosRun.select(CATALOGUE, " ", Set.of())).containsExactly(ISOLATE, KILL, KILL, RELAY);
    }

    @Test
    void select_withNames_runsOnlyThoseKindsRepeatsKept_evenOnesOffByDefault() {
        assertThat(ChaosRun.select(CATALOGUE, "kill-9, bridge-relay", Set.of("bridge-relay"))).containsExactly(KILL, KILL, RELAY);
        assertThat(ChaosRun.select(CATALOGUE, "bridge-relay", Set.of("bridge-relay"))).containsExactly(RELAY);
    }

    @Test
    void select_withAnUnknownName_failsNamingTheKnownOnes() {
        assertThatThrownBy(() -> ChaosRun.select(CATALOGUE, "isolate-one,brige-relay", Set.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[brige-relay]")
                .hasMessageContaining("bridge-relay").hasMessageContaining("kill-9");
    }

    @Test
    void aLongRunsReport_listsItsSlowestCyclesWithTheirHealTime() {
        List<ChaosRun.Cycle> cycles = new ArrayList<>();
        Instant t0 = Instant.parse("2026-12-02T10:00:00Z");
        for (int i = 0; i < 50; i++) {
            cycles.add(new ChaosRun.Cycle(i % 2 == 0 ? "kill-9" : "isolate-one", "1 publishes during the fault",
                    t0.plusSeconds(10L * i), i == 17 ? 3300 : i == 30 ? 2900 : 100 + i));
        }
        String table = new ChaosRun.Report(7, cycles, List.of(), 0, 0, List.of(), List.of(), List.of(), List.of(), List.of()).table();

        assertThat(table).contains("converge p50 / p99 / max ms").contains("slowest cycles");
        String slowest = table.substring(table.indexOf("slowest cycles"));
        assertThat(slowest.lines().skip(1).limit(ChaosRun.SLOWEST_LISTED))
                .hasSize(ChaosRun.SLOWEST_LISTED)
                .first().asString().contains("18 isolate-one").contains("2026-12-02T10:02:50Z").contains("3300");
        assertThat(slowest.lines().skip(2).findFirst().orElseThrow()).contains("31 kill-9").contains("2900");
    }
}
