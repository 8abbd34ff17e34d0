package io.knowngood.crypto.bundle;

import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs {@link VerifyBenchmark} (JMH options from the command line, e.g. {@code -f 1 -wi 3 -i 5 -w 1s -r 1s})
 * and prints verify cost beside the floor and their ratio, one row per bundle size.
 */
public final class VerifyBenchmarkMain {
    private VerifyBenchmarkMain() {
    }

    public static void main(String[] args) throws Exception {
        CommandLineOptions cli = new CommandLineOptions(args);
        OptionsBuilder builder = new OptionsBuilder();
        builder.parent(cli);
        if (cli.getIncludes().isEmpty()) {
            builder.include(VerifyBenchmark.class.getName());
        }
        Options options = builder.build();
        Collection<RunResult> results = new Runner(options).run();

        Map<Integer, Map<String, double[]>> byPayload = new TreeMap<>();
        for (RunResult r : results) {
            int payload = Integer.parseInt(r.getParams().getParam("payloadBytes"));
            String method = r.getParams().getBenchmark().substring(r.getParams().getBenchmark().lastIndexOf('.') + 1);
            // on a shared machine other work only ever adds time: the fastest iteration is the least
            // disturbed one, the median says how typical it is
            double min = r.getPrimaryResult().getStatistics().getMin();
            double median = r.getPrimaryResult().getStatistics().getPercentile(50);
            double cpuNanos = r.getSecondaryResults().get("cpuNanos").getScore();
            double calls = r.getSecondaryResults().get("calls").getScore();
            double cpuMicros = cpuNanos / calls / 1000.0;
            byPayload.computeIfAbsent(payload, k -> new TreeMap<>()).put(method, new double[] {min, median, cpuMicros});
        }
        System.out.println();
        System.out.println("us/op: fastest measured iteration (median of the iterations in brackets); ratios from the fastest");
        System.out.println("| payload | verify(byte[]) | verify(InputStream) | floor (SHA-256 + Ed25519) | SHA-256 only | Ed25519 only | verify(byte[]) / floor | verify(InputStream) / floor |");
        System.out.println("|---|---|---|---|---|---|---|---|");
        byPayload.forEach((payload, m) -> System.out.printf("| %s | %s | %s | %s | %s | %s | %s | %s |%n",
                label(payload), cell(m.get("verifyBytes")), cell(m.get("verifyStream")), cell(m.get("floor")),
                cell(m.get("sha256Only")), cell(m.get("ed25519Only")),
                ratio(m.get("verifyBytes"), m.get("floor"), 0), ratio(m.get("verifyStream"), m.get("floor"), 0)));
        System.out.println();
        System.out.println("us of CPU time per op (thread CPU clock, all measured iterations): what other work on the machine disturbs least");
        System.out.println("| payload | verify(byte[]) | verify(InputStream) | floor | SHA-256 only | Ed25519 only | archive copy only | verify(byte[]) / floor | verify(InputStream) / floor |");
        System.out.println("|---|---|---|---|---|---|---|---|---|");
        byPayload.forEach((payload, m) -> System.out.printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s |%n",
                label(payload), cpu(m.get("verifyBytes")), cpu(m.get("verifyStream")), cpu(m.get("floor")),
                cpu(m.get("sha256Only")), cpu(m.get("ed25519Only")), cpu(m.get("archiveCopyOnly")),
                ratio(m.get("verifyBytes"), m.get("floor"), 2), ratio(m.get("verifyStream"), m.get("floor"), 2)));
    }

    private static String cell(double[] v) {
        return v == null ? "-" : String.format("%.1f (%.1f)", v[0], v[1]);
    }

    private static String cpu(double[] v) {
        return v == null ? "-" : String.format("%.1f", v[2]);
    }

    private static String ratio(double[] a, double[] b, int column) {
        return a == null || b == null ? "-" : String.format("%.2fx", a[column] / b[column]);
    }

    private static String label(int payload) {
        return payload >= 1024 * 1024 ? payload / (1024 * 1024) + " MiB" : payload / 1024 + " KiB";
    }
}
