package io.knowngood.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The metric names docs/kgnode.md's metrics table lists: each row's first cell, which names one family or
 * several ({@code `kgnode_cluster_partitioned`, `kgnode_cluster_in_touch`}). Node's DocumentedMetricsTest
 * holds the table to what a node exports; packaging's AlertRulesTest holds the alerting rules to the table.
 */
public final class DocumentedMetrics {
    private static final Pattern NAME = Pattern.compile("`(kgnode_\\w+)`");

    private DocumentedMetrics() {
    }

    /** The kgnode metric names in {@code kgnodeMd}'s metrics table, sorted. */
    public static Set<String> names(Path kgnodeMd) throws IOException {
        Set<String> names = new TreeSet<>();
        for (String row : Files.readAllLines(kgnodeMd)) {
            if (row.startsWith("| `kgnode_")) {
                Matcher m = NAME.matcher(row.substring(0, row.indexOf(" |", 2)));
                while (m.find()) {
                    names.add(m.group(1));
                }
            }
        }
        return names;
    }
}
