package io.knowngood.testkit.measure;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/** Samples in milliseconds and their p50 / p99 / max, for the benchmark and chaos tables. */
public final class Percentiles {
    private final List<Double> samples = new ArrayList<>();

    public synchronized void add(double ms) {
        samples.add(ms);
    }

    public synchronized int count() {
        return samples.size();
    }

    /** Nearest-rank percentile {@code p} (0-100; 100 is the max); NaN without samples. */
    public synchronized double pct(double p) {
        if (samples.isEmpty()) {
            return Double.NaN;
        }
        List<Double> s = new ArrayList<>(samples);
        Collections.sort(s);
        int i = (int) Math.ceil(p / 100.0 * s.size()) - 1;
        return s.get(Math.max(0, Math.min(s.size() - 1, i)));
    }

    /** "p50 / p99 / max" with one decimal. */
    public String summary() {
        return String.format(Locale.ROOT, "%.1f / %.1f / %.1f", pct(50), pct(99), pct(100));
    }
}
