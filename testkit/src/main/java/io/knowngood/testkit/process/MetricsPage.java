package io.knowngood.testkit.process;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalDouble;

/**
 * A node's admin {@code GET /metrics} page (Prometheus text format) as samples, for tests and benches
 * that read a counter or a gauge: {@code name{labels} value} lines, comments skipped.
 */
public record MetricsPage(List<Sample> samples) {

    /** One line: the metric's name, its label block as written ({@code a="b",c="d"}, empty without one), the value. */
    public record Sample(String name, String labels, double value) {
        /** Whether the label block holds every one of {@code labels}, each written {@code key="value"}. */
        public boolean has(String... labels) {
            return Arrays.stream(labels).allMatch(l -> this.labels.contains(l));
        }
    }

    /** The node's page now; fails unless it answers 200. */
    public static MetricsPage of(NodeProcess node) throws IOException, InterruptedException {
        HttpResponse<String> r = node.adminGet("/metrics");
        if (r.statusCode() != 200) {
            throw new IOException(node.id() + ": GET /metrics answered " + r.statusCode());
        }
        return parse(r.body());
    }

    public static MetricsPage parse(String text) {
        List<Sample> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            // name{labels} value: the value after the last space (a label value may hold spaces)
            int space = line.lastIndexOf(' ');
            if (space <= 0) {
                continue;
            }
            String key = line.substring(0, space);
            int brace = key.indexOf('{');
            int close = key.lastIndexOf('}');
            String name = brace < 0 ? key : key.substring(0, brace);
            String labels = brace < 0 || close < brace ? "" : key.substring(brace + 1, close);
            out.add(new Sample(name, labels, value(line.substring(space + 1).trim())));
        }
        return new MetricsPage(List.copyOf(out));
    }

    private static double value(String v) {
        return switch (v) {
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            case "NaN" -> Double.NaN;
            default -> Double.parseDouble(v);
        };
    }

    /** The first sample of {@code name} that has every one of {@code labels}. */
    public OptionalDouble value(String name, String... labels) {
        return samples.stream().filter(s -> s.name().equals(name) && s.has(labels)).mapToDouble(Sample::value).findFirst();
    }

    /** The sum over the samples of {@code name} that have every one of {@code labels} (0 when none). */
    public double sum(String name, String... labels) {
        return samples.stream().filter(s -> s.name().equals(name) && s.has(labels)).mapToDouble(Sample::value).sum();
    }
}
