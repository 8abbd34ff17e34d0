package io.knowngood.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.knowngood.testkit.Ci;
import io.knowngood.testkit.DocumentedMetrics;
import io.knowngood.testkit.Promtool;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped Prometheus alerting rules (kgnode-alerts.yml) as Prometheus' own tool reads them: valid
 * ({@code promtool check rules}), each alert firing on what it is for and not on its look-alikes
 * ({@code promtool test rules} with src/test/prometheus/kgnode-alerts-test.yml), every alert with a test
 * that expects it to fire, every kgnode metric it uses one that docs/kgnode.md's metrics table lists
 * (node's {@code DocumentedMetricsTest} holds that table to what a node registers), and docs/install.md's
 * prometheus.yml valid with them ({@code promtool check config}).
 */
class AlertRulesTest {
    static final Path RULES = Path.of("kgnode-alerts.yml");
    static final Path TESTS = Path.of("src/test/prometheus/kgnode-alerts-test.yml");
    static final Path METRICS_DOC = Path.of("../docs/kgnode.md");
    static final Path INSTALL_DOC = Path.of("../docs/install.md");

    static Promtool.Result promtool(String... args) throws IOException, InterruptedException {
        assumeTrue(Ci.available(Promtool.missing()), Promtool.missing());
        return Promtool.run(args);
    }

    static Set<String> all(Pattern p, String text) {
        Set<String> found = new TreeSet<>();
        Matcher m = p.matcher(text);
        while (m.find()) {
            found.add(m.group(1));
        }
        return found;
    }

    @Test
    void promtoolCheckRules_acceptsTheRules() throws Exception {
        Promtool.Result r = promtool("check", "rules", RULES.toString());
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("SUCCESS: 18 rules found");
    }

    @Test
    void promtoolTestRules_passes_andEveryAlertHasACaseWhereItFires() throws Exception {
        Promtool.Result r = promtool("test", "rules", TESTS.toString());
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("SUCCESS");

        Set<String> alerts = all(Pattern.compile("(?m)^\\s+- alert: (\\w+)$"), Files.readString(RULES));
        Set<String> firing = all(Pattern.compile("(?m)^\\s+alertname: (\\w+)\\n\\s+exp_alerts:\\n\\s+- exp_labels"), Files.readString(TESTS));
        assertThat(alerts).hasSize(18);
        assertThat(firing).as("alerts with a case where they fire").isEqualTo(alerts);
    }

    /** docs/install.md's prometheus.yml, with its two paths pointed at the rules here and a token file. */
    @Test
    void theInstallGuidesPrometheusConfig_isValid_andLoadsTheRules(@TempDir Path dir) throws Exception {
        Matcher block = Pattern.compile("```yaml\n# prometheus.yml\n(.*?)```", Pattern.DOTALL).matcher(Files.readString(INSTALL_DOC));
        assertThat(block.find()).as("the prometheus.yml block in " + INSTALL_DOC).isTrue();
        Files.writeString(dir.resolve("kgnode-read.token"), "reader-token-0123456789abcdef\n");
        String config = block.group(1);
        assertThat(config).contains("/etc/prometheus/kgnode-alerts.yml", "/etc/prometheus/kgnode-read.token");
        Path file = dir.resolve("prometheus.yml");
        Files.writeString(file, config.replace("/etc/prometheus/kgnode-alerts.yml", RULES.toAbsolutePath().toString())
                .replace("/etc/prometheus/kgnode-read.token", dir.resolve("kgnode-read.token").toString()));

        Promtool.Result r = promtool("check", "config", file.toString());
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("SUCCESS: 1 rule files found", "SUCCESS: 18 rules found");
    }

    @Test
    void everyMetricTheRulesUse_isInTheDocumentedMetricsTable() throws Exception {
        Set<String> used = all(Pattern.compile("\\b(kgnode_\\w+)"), Files.readString(RULES));
        Set<String> documented = DocumentedMetrics.names(METRICS_DOC);
        assertThat(used).isNotEmpty();
        assertThat(documented).containsAll(used);
    }
}
