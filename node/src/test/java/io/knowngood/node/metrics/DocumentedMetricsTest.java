package io.knowngood.node.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.node.cluster.ClusterStatus;
import io.knowngood.node.store.StoreHealth;
import io.knowngood.replication.MeshStats;
import io.knowngood.replication.Revocations;
import io.knowngood.testkit.DocumentedMetrics;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docs/kgnode.md's metrics table is what a node exports: every kgnode metric family of a node with
 * everything bound (a TLS mesh with sites, TLS on the admin endpoint) is in the table, and every name
 * in the table is exported. The shipped alerting rules are held to the table (packaging's AlertRulesTest).
 */
class DocumentedMetricsTest {
    static final Path DOC = Path.of("../docs/kgnode.md");

    /** The families a scrape declares ({@code # TYPE name type}). */
    static Set<String> exported(String scrape) {
        Set<String> names = new TreeSet<>();
        Matcher m = Pattern.compile("(?m)^# TYPE (kgnode_\\w+) ").matcher(scrape);
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    @Test
    void theMetricsTable_listsEveryFamilyANodeExports_andNothingElse() throws Exception {
        Instant now = Instant.parse("2026-12-07T12:00:00Z");
        Clock clock = Clock.fixed(now, ZoneOffset.UTC);
        NodeMetrics metrics = new NodeMetrics();
        ClusterStatus cluster = new ClusterStatus("e1", "CLUSTERED", List.of(new ClusterStatus.Member("e1", "10.0.0.1:7800", true)),
                Optional.of("e1"), false, Optional.of(now), Optional.of("east"),
                List.of(new ClusterStatus.Site("west", true, Optional.of(now.minusSeconds(2)), List.of("records"))));
        MeshStats stats = new MeshStats(Map.of("push", 1L), Map.of("stale", 1L), 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                Map.of("revoked", 1L), Optional.of(new Revocations.Status(Path.of("crl.pem"), true, 1, BigInteger.ONE, now, null, Map.of())));
        metrics.bind(() -> new StoreHealth(1, 0, List.of(), List.of()), () -> cluster, () -> 0, clock);
        metrics.bindHeld(() -> 1, 2);
        metrics.bindDirectCopies(() -> 1);
        metrics.bindExpired(() -> 0);
        metrics.bindRuntime(() -> Optional.of(stats), () -> 0);
        metrics.bindPools(1);
        metrics.bindConvergence(() -> 0);
        metrics.bindCertificates(Optional.of(now.plusSeconds(86_400)), Optional.of(now.plusSeconds(86_400)));
        NodeMetricsTest.countEachOnce(metrics);

        String scrape = new String(metrics.scrape(), StandardCharsets.UTF_8);
        Set<String> exported = exported(scrape);
        Set<String> documented = DocumentedMetrics.names(DOC);

        assertThat(documented).as("documented in docs/kgnode.md but not exported").containsAll(exported);
        assertThat(exported).as("exported but not in docs/kgnode.md's table").containsAll(documented);
    }
}
