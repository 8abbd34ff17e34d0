package io.knowngood.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.api.ClusterView;
import io.knowngood.testkit.Ci;
import io.knowngood.testkit.Promtool;
import io.knowngood.testkit.cluster.ChaosCluster;
import io.knowngood.testkit.fault.NetworkFaults;
import io.knowngood.testkit.fault.ProcessFaults;
import io.knowngood.testkit.process.NodeProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two sites of two real kgnode processes each on a TLS mesh, bridged by cross-site replication
 * (127.0.0.201-204, ports 18800-19003): a publish in one site is served by both nodes of the other; with
 * the WAN cut each site accepts and serves its own publish; after the heal every node serves the highest
 * version; a killed site master is replaced and replication goes on; a host of west given east's n1's id
 * leaves the mesh (on 127.0.0.(ipBase + 8), ports 18890, 18895-18896). One scenario, in order.
 */
class SitesProcessTest {
    static final int IP_BASE = ChaosCluster.ipBaseProperty(201);
    static final Duration WITHIN = Duration.ofSeconds(20);
    static ChaosCluster c;

    @BeforeAll
    static void start() throws Exception {
        Assumptions.assumeTrue(Ci.available(NodeProcess.jarMissing()), NodeProcess.jarMissing());
        Assumptions.assumeTrue(Ci.available(NetworkFaults.unavailableBecause()), NetworkFaults.unavailableBecause());
        String chromium = Ci.missingTools("chromium");
        Assumptions.assumeTrue(Ci.available(chromium), chromium);
        Assumptions.assumeTrue(Ci.available(Promtool.missing()), Promtool.missing());
        NetworkFaults.setUp();
        c = ChaosCluster.sites(Files.createTempDirectory("kg-sites"), NodeProcess.jar(), List.of("east", "west"), 2, IP_BASE, 18800);
        c.startAll();
    }

    @AfterAll
    static void stop() throws Exception {
        NetworkFaults.closeHealed(c);
    }

    static long served(NodeProcess n, String name) {
        ChaosCluster.Served s = c.fetch(n, name);
        return s.status() == 200 && s.verified() ? s.version() : -1;
    }

    static long awaitServed(List<NodeProcess> nodes, String name, long version, Duration within) {
        long t0 = System.nanoTime();
        for (NodeProcess n : nodes) {
            Awaitility.await(n.id() + " (" + c.siteOf(n) + ") serves " + name + "@" + version).atMost(within)
                    .pollInterval(Duration.ofMillis(50)).until(() -> served(n, name) == version);
        }
        return (System.nanoTime() - t0) / 1_000_000;
    }

    static Optional<ClusterView.Site> otherSite(NodeProcess n) {
        return c.clusterView(n).flatMap(v -> v.sites().stream().findFirst());
    }

    static void awaitSitesOnline(boolean online) {
        for (NodeProcess n : c.nodes()) {
            Awaitility.await(n.id() + " sees the other site " + (online ? "online" : "offline")).atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(200)).until(() -> otherSite(n).map(s -> s.online() == online).orElse(false));
        }
    }

    /** The site entry of kgctl explain's dependencies ({@code GET /v1/explain/desk}), as JSON text. */
    static String siteDependency(NodeProcess n) throws Exception {
        String body = n.adminGet("/v1/explain/desk").body();
        int at = body.indexOf("\"kind\":\"site\"");
        return at < 0 ? body : body.substring(at, body.indexOf('}', at));
    }

    /**
     * The status page's sites section as Chromium renders it: shown, this site, "site state class | backups
     * offline class" per row.
     */
    record SitesOnPage(boolean shown, String site, List<String> rows) {}

    static SitesOnPage sitesOnPage(NodeProcess n) throws Exception {
        String dom = HeadlessChromium.run(Path.of("target").toAbsolutePath(), "--dump-dom",
                n.adminUrl() + "/#token=" + ChaosCluster.TOKEN);
        Matcher box = Pattern.compile("<div id=\"sitesbox\"([^>]*)>(.*?)</div>", Pattern.DOTALL).matcher(dom);
        assertThat(box.find()).as("the sites section in:\n" + dom).isTrue();
        Matcher site = Pattern.compile("id=\"site\">([^<]*)<").matcher(box.group(2));
        List<String> rows = new ArrayList<>();
        Matcher row = Pattern.compile("<tr><td>([^<]*)</td><td class=\"([^\"]*)\">([^<]*)</td><td>[^<]*</td>"
                + "<td class=\"([^\"]*)\">([^<]*)</td></tr>").matcher(box.group(2));
        while (row.find()) {
            rows.add(row.group(1) + " " + row.group(3) + " " + row.group(2) + " | " + row.group(5) + " " + row.group(4));
        }
        return new SitesOnPage(!box.group(1).contains("hidden"), site.find() ? site.group(1) : null, rows);
    }

    @Test
    void publishCrossesSites_wanCutLeavesEachSiteAutonomous_healConverges_aKilledSiteMasterIsReplaced() throws Exception {
        List<NodeProcess> east = c.site("east");
        List<NodeProcess> west = c.site("west");
        awaitSitesOnline(true);
        ClusterView v = c.clusterView(east.get(0)).orElseThrow();
        assertThat(v.site()).isEqualTo("east");
        assertThat(v.sites()).extracting(ClusterView.Site::name).containsExactly("west");
        assertThat(v.sites().get(0).lastContact()).isNotEqualTo("never");
        assertThat(v.members()).hasSize(2); // the mesh is the site only
        assertThat(siteDependency(west.get(1))).contains("\"name\":\"east\",\"status\":\"ok\"");
        assertThat(sitesOnPage(east.get(0))).isEqualTo(new SitesOnPage(true, "east", List.of("west online ok | none ok")));
        String metrics = east.get(0).adminGet("/metrics").body();
        assertThat(metrics).contains("kgnode_site_online{site=\"west\"} 1.0",
                "kgnode_site_backup_offline{cache=\"bundles\",site=\"west\"} 0.0", "kgnode_site_backup_offline{cache=\"records\",site=\"west\"} 0.0",
                "kgnode_site_last_contact_age_seconds{site=\"west\"} ");
        Promtool.Result lint = Promtool.checkMetrics(metrics);
        assertThat(lint.exitCode()).as(lint.output()).isZero();
        assertThat(lint.output()).as("promtool check metrics on a node with sites").isBlank();

        assertThat(c.publish(east.get(0), "desk", c.pack("desk", 1))).isEqualTo(201);
        long crossedMs = awaitServed(west, "desk", 1, WITHIN);

        NetworkFaults.WanDrop cut = NetworkFaults.WanDrop.cut("east", "west");
        cut.inject(c, new Random(1));
        assertThat(c.publish(east.get(1), "desk", c.pack("desk", 2))).isEqualTo(201);
        assertThat(c.publish(west.get(1), "desk", c.pack("desk", 3))).isEqualTo(201);
        awaitServed(east, "desk", 2, WITHIN);
        awaitServed(west, "desk", 3, WITHIN);
        awaitSitesOnline(false);
        assertThat(siteDependency(east.get(1))).contains("\"name\":\"west\",\"status\":\"down\"");
        assertThat(east.get(1).adminGet("/metrics").body()).contains("kgnode_site_online{site=\"west\"} 0.0");
        SitesOnPage cutOff = sitesOnPage(west.get(1));
        assertThat(cutOff.shown()).isTrue();
        assertThat(cutOff.rows()).singleElement().asString().startsWith("east OFFLINE bad | "); // backups may be taken offline meanwhile
        assertThat(east).allSatisfy(n -> assertThat(served(n, "desk")).as(n.id()).isEqualTo(2)); // the cut does cut

        cut.heal(c);
        long healedMs = awaitServed(c.nodes(), "desk", 3, WITHIN);
        awaitSitesOnline(true);

        ProcessFaults.KillSiteMaster kill = new ProcessFaults.KillSiteMaster("east");
        kill.inject(c, new Random(2));
        NodeProcess survivor = east.stream().filter(n -> n != kill.victim()).findFirst().orElseThrow();
        assertThat(c.publish(west.get(0), "desk", c.pack("desk", 4))).isEqualTo(201);
        long afterKillMs = awaitServed(List.of(survivor), "desk", 4, Duration.ofSeconds(30));
        kill.heal(c);
        awaitServed(c.nodes(), "desk", 4, Duration.ofSeconds(30));

        System.out.printf("sites: crossed in %d ms, healed in %d ms, after the site master's kill in %d ms%n", crossedMs,
                healedMs, afterKillMs);

        aHostInWestGivenEastsNodeId(east.get(0), west);
    }

    /**
     * A host of west set up from a copy of east's n1 (its node id and mesh certificate, west's site flags).
     * The two are never in one view, but their rollout records crossed and overwrote each other's; now
     * the later one leaves the mesh, and both explain why.
     */
    static void aHostInWestGivenEastsNodeId(NodeProcess n1, List<NodeProcess> west) throws Exception {
        NodeProcess twin = NodeProcess.builder(n1.id(), c.dir()).dataDir(c.dir().resolve("twin-data")).log(c.dir().resolve("twin.log"))
                .jar(NodeProcess.jar()).ip(c.rogueIp()).clusterPort(c.rogueClusterPort()).vmPort(18800 + 95).adminPort(18800 + 96)
                .adminToken(ChaosCluster.TOKEN)
                .args("--cluster-name", c.clusterName(), "--trust-key", c.dir().resolve("publisher.pub").toString(),
                        "--cluster-tls-dir", c.dir().resolve(n1.id() + "-tls").toString(), "--site", "west", "--sites", "east")
                .build();
        twin.peers(west.stream().map(NodeProcess::clusterAddress).toList());
        twin.start();
        String twinAddress = c.rogueIp() + ":" + c.rogueClusterPort();
        try {
            ChaosCluster.awaitUp(twin);
            Awaitility.await("the later host leaves the mesh").atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(500))
                    .until(() -> twin.adminGet("/v1/health").body().contains("\"state\":\"DUPLICATE_ID\""));
            assertThat(idDependency(twin)).contains("\"status\":\"down\"").contains("this node left the mesh")
                    .contains("the host at " + n1.clusterAddress() + " in site east has the same node id and came first");
            assertThat(Files.readString(twin.log())).contains("ERROR")
                    .contains("leaving the mesh: the host at " + n1.clusterAddress() + " in site east has this node's id (n1)");
            assertThat(served(twin, "desk")).as("it serves what it took in before it left").isEqualTo(4);
            // n1 confirms the twin on its own looks, within the grace the twin waits after confirming
            Awaitility.await("n1 warns of the twin").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(500))
                    .untilAsserted(() -> assertThat(idDependency(n1)).contains("\"status\":\"warn\"")
                            .contains("the host at " + twinAddress + " in site west has this node's id"));
            assertThat(c.healthy(n1)).isTrue();
        } finally {
            twin.stop();
        }
    }

    /** The id entry of explain's dependencies, as JSON text ("" without one). */
    static String idDependency(NodeProcess n) throws Exception {
        String body = n.adminGet("/v1/explain/desk").body();
        int at = body.indexOf("\"kind\":\"id\"");
        return at < 0 ? "" : body.substring(at, body.indexOf('}', at));
    }
}
