package io.knowngood.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.crypto.bundle.RolloutPolicy;
import io.knowngood.testkit.Ci;
import io.knowngood.testkit.cluster.ChaosCluster;
import io.knowngood.testkit.process.NodeProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The admin status page in a real browser (headless Chromium) against three real kgnode processes.
 * n3 runs with {@code --max-files 1}, so it refuses version 2 of {@code desk} (two files) and stays
 * at version 1 while in view: a laggard for as long as the test likes, without timing games. The page,
 * opened on n1 with {@code #token=}, must show the three members, every host's version of both
 * bundles, the laggard mark on n3's {@code desk} cell and nowhere else, a refused publish among the
 * recent problems, a rollout in progress, and, once n3 is stopped, n3 as out of touch (a rollout names it).
 */
class StatusPageBrowserTest {

    static final int IP_BASE = ChaosCluster.ipBaseProperty(151);
    static final int PORT_BASE = 18150;
    static final Path TARGET = Path.of("target").toAbsolutePath();
    static ChaosCluster c;

    @BeforeAll
    static void start() throws Exception {
        Assumptions.assumeTrue(Ci.available(NodeProcess.jarMissing()), NodeProcess.jarMissing());
        String chromium = Ci.missingTools("chromium");
        Assumptions.assumeTrue(Ci.available(chromium), chromium);
        c = new ChaosCluster(Files.createTempDirectory("kg-status"), NodeProcess.jar(), 3, IP_BASE, PORT_BASE,
                List.of("--publish-timeout", "2s")); // a publish does not wait 10 s for n3, which refuses desk@2
        // Only n3 gets the low file limit: append it to n3's command line (exec keeps the pid for signals and stop).
        c.node(2).wrap(List.of("sh", "-c", "exec \"$@\" --max-files 1", "sh"), Map.of());
        // n3 also trusts a second publisher key (a key rotation half done): the page names it
        Path second = c.dir().resolve("second.pub");
        io.knowngood.crypto.bundle.Ed25519Keys.writePublicPem(io.knowngood.crypto.bundle.Ed25519Keys.generate().getPublic(), second);
        c.node(2).extraArgs(List.of("--trust-key", second.toString()));
        c.startAll();
    }

    @AfterAll
    static void stop() throws Exception {
        if (c != null) {
            c.close();
        }
    }

    static NodeProcess n(int i) {
        return c.node(i - 1);
    }

    static byte[] desk(long version, int files) {
        TreeMap<String, byte[]> content = new TreeMap<>();
        for (int f = 1; f <= files; f++) {
            content.put("file" + f + ".ini", ("[desk]\nversion=" + version + "\n").getBytes(StandardCharsets.UTF_8));
        }
        return c.pack("desk", version, content);
    }

    /** What n1's admin view says member {@code id} holds of {@code name} (0 for nothing). */
    static long heldInView(String id, String name) throws Exception {
        String body = n(1).adminGet("/v1/bundles").body();
        Matcher m = Pattern.compile("\"name\":\"" + name + "\".*?\"members\":\\{([^}]*)}").matcher(body);
        if (!m.find()) {
            return 0;
        }
        Matcher v = Pattern.compile("\"" + id + "\":(\\d+)").matcher(m.group(1));
        return v.find() ? Long.parseLong(v.group(1)) : 0;
    }

    @Test
    void page_showsMembersVersionsAndMarksTheLaggard() throws Exception {
        assertThat(c.publish(n(1), "desk", desk(1, 1))).isEqualTo(201);
        assertThat(c.publish(n(1), "motd", c.pack("motd", 4))).isEqualTo(201);
        for (String id : List.of("n1", "n2", "n3")) {
            Awaitility.await(id + " holds desk@1 and motd@4 in n1's view").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                    .until(() -> heldInView(id, "desk") == 1 && heldInView(id, "motd") == 4);
        }
        assertThat(c.publish(n(1), "desk", desk(2, 2))).isEqualTo(201);
        // A refused publish (a rollback) for the recent-problems list.
        assertThat(c.publish(n(1), "motd", c.pack("motd", 3))).isEqualTo(409);
        Awaitility.await("n2 holds desk@2 in n1's view").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> heldInView("n2", "desk") == 2 && heldInView("n1", "desk") == 2);
        assertThat(heldInView("n3", "desk")).as("n3 refuses desk@2 (too many files for it)").isEqualTo(1);

        Awaitility.await("n1 knows n3's trusted keys").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> n(1).clusterView().map(v -> v.members().stream()
                        .anyMatch(m -> m.id().equals("n3") && m.trustedKeys() != null && m.trustedKeys().size() == 2)).orElse(false));
        String url = n(1).adminUrl() + "/#token=" + ChaosCluster.TOKEN;
        String dom = chromium("--dump-dom", url);
        Map<String, Row> table = versionTable(dom);
        assertThat(table).as("rows of the version table in:\n" + dom).containsOnlyKeys("n1", "n2", "n3");
        for (String id : List.of("n1", "n2")) {
            assertThat(table.get(id)).isEqualTo(new Row(false, Map.of("desk", new Cell("2", false), "motd", new Cell("4", false))));
        }
        assertThat(table.get("n3")).isEqualTo(new Row(false, Map.of("desk", new Cell("1", true), "motd", new Cell("4", false))));
        assertThat(text(dom, "self")).isEqualTo("n1");
        assertThat(text(dom, "state")).isEqualTo("CLUSTERED");
        assertThat(text(dom, "partitioned")).isEqualTo("no");
        assertThat(text(dom, "updated")).isNotEqualTo("never");
        assertThat(dom).contains("publish motd by admin").contains("409 rollback");
        assertThat(dom).as("the newest publish first among the recent changes, the refused one not there")
                .containsPattern("<tbody><tr><td>[0-9T:.-]+Z</td><td>publish</td><td>desk</td><td>2</td><td>admin</td><td>[0-9.]+</td><td>created</td></tr>"
                        + "<tr><td>[^<]+</td><td>publish</td><td>motd</td><td>4</td>")
                .doesNotContainPattern("<td>motd</td><td>3</td>");
        assertThat(dom).as("the token left the address bar and the page").doesNotContain(ChaosCluster.TOKEN);
        assertThat(dom).containsPattern("<div id=\"error\"[^>]*hidden");
        assertThat(dom).as("a mesh without sites hides the sites section").containsPattern("<div id=\"sitesbox\"[^>]*hidden");
        assertThat(text(dom, "crl")).as("the TLS mesh has no revocation list").isEqualTo("none");
        assertThat(text(dom, "keys")).isEqualTo("1 (" + io.knowngood.crypto.bundle.KeyId.of(c.publisher().getPublic()).hex().substring(0, 16)
                + "); other keys on n3");
        assertThat(dom).contains("<b id=\"keys\" class=\"bad\">");

        // A rollout held at its first wave (n2), so the page has one in progress and names n3 as one of its hosts.
        RolloutPolicy canary = new RolloutPolicy(List.of(new RolloutPolicy.Hosts(List.of("n2"))), 100, 3600, 100);
        assertThat(c.publish(n(1), "wallpaper", c.pack("wallpaper", 7, canary))).isEqualTo(201);
        Awaitility.await("n1 sees every host's record of wallpaper@7").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> c.rollouts(n(1), "wallpaper").map(l -> l.rollouts().stream().anyMatch(r -> r.version() == 7
                        && r.state().equals("rolling") && r.hosts().size() == 3)).orElse(false));
        String rolling = chromium("--dump-dom", url);
        assertThat(rolling).containsPattern("<tr><td>wallpaper</td><td>7</td><td>rolling</td><td>1 of 2</td>");
        assertThat(versionTable(rolling).get("n3").cells()).containsEntry("desk", new Cell("1", true));

        Path shot = TARGET.resolve("status-page.png");
        Files.deleteIfExists(shot);
        chromium("--screenshot=" + shot, "--window-size=1280,900", url);
        assertThat(shot).isRegularFile();
        assertThat(Files.size(shot)).isGreaterThan(10_000);

        // n3 stops: it leaves n1's view, but the rollout still names it, so the page lists it as out of touch.
        n(3).stop();
        Awaitility.await("n1's view without n3").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> !n(1).adminGet("/v1/cluster").body().contains("\"id\":\"n3\""));
        String withoutDom = chromium("--dump-dom", url);
        Map<String, Row> without = versionTable(withoutDom);
        assertThat(text(withoutDom, "partitioned")).as("n3 is a configured peer not in view").isEqualTo("yes");
        assertThat(without).containsOnlyKeys("n1", "n2", "n3");
        assertThat(without.get("n3").out()).as("n3 marked out of touch").isTrue();
        assertThat(without.get("n1").out()).isFalse();
        assertThat(without.get("n2").out()).isFalse();
        Path outShot = TARGET.resolve("status-page-out-of-touch.png");
        Files.deleteIfExists(outShot);
        chromium("--screenshot=" + outShot, "--window-size=1280,900", url);
        assertThat(outShot).isRegularFile();

        String refused = chromium("--dump-dom", n(1).adminUrl() + "/#token=wrong-token-wrong-token-wrong");
        assertThat(refused).contains("refused the token (401)").containsPattern("<form id=\"login\"(?![^>]*hidden)");
    }

    record Cell(String text, boolean laggard) {}

    record Row(boolean out, Map<String, Cell> cells) {}

    /** host -> row, from the rows ({@code data-host}) and cells ({@code data-bundle}) of the version table. */
    static Map<String, Row> versionTable(String dom) {
        Map<String, Row> out = new LinkedHashMap<>();
        Matcher row = Pattern.compile("<tr([^>]*)>(.*?)</tr>", Pattern.DOTALL).matcher(dom);
        while (row.find()) {
            Matcher host = Pattern.compile("data-host=\"([^\"]+)\"").matcher(row.group(1));
            if (!host.find()) {
                continue;
            }
            Map<String, Cell> cells = new LinkedHashMap<>();
            Matcher cell = Pattern.compile("<td([^>]*)>([^<]*)</td>").matcher(row.group(2));
            while (cell.find()) {
                Matcher name = Pattern.compile("data-bundle=\"([^\"]+)\"").matcher(cell.group(1));
                if (name.find()) {
                    cells.put(name.group(1), new Cell(cell.group(2), cell.group(1).contains("class=\"laggard\"")));
                }
            }
            out.put(host.group(1), new Row(row.group(1).contains("class=\"out\""), cells));
        }
        return out;
    }

    static String text(String dom, String id) {
        Matcher m = Pattern.compile("id=\"" + id + "\"[^>]*>([^<]*)<").matcher(dom);
        return m.find() ? m.group(1) : null;
    }

    static String chromium(String... args) throws IOException, InterruptedException {
        return HeadlessChromium.run(TARGET, args);
    }
}
