package io.knowngood.testkit.check;

import io.knowngood.testkit.workload.History;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Properties checked over a recorded {@link History}. Each returns the violations it found (empty:
 * the property held), so a report can list them all instead of stopping at the first.
 */
public final class Checkers {
    private Checkers() {
    }

    /** No 200 response ever carried bytes that fail the client's own verification. */
    public static List<String> noUnverifiedServed(History h) {
        List<String> out = new ArrayList<>();
        for (History.Fetch f : h.fetches()) {
            if (f.status() == 200 && !f.verified()) {
                out.add(f.at() + " " + f.node() + " served " + f.bundle() + " that does not verify: " + f.error());
            }
        }
        return out;
    }

    /** Per node and bundle, the served version never goes down, across restarts too. */
    public static List<String> noRegression(History h) {
        List<String> out = new ArrayList<>();
        Map<String, Long> highest = new HashMap<>();
        for (History.Fetch f : h.fetches()) {
            if (f.status() != 200 || !f.verified()) {
                continue;
            }
            String key = f.node() + "/" + f.bundle();
            Long before = highest.get(key);
            if (before != null && f.version() < before) {
                out.add(f.at() + " " + key + " went from version " + before + " down to " + f.version());
            }
            highest.merge(key, f.version(), Math::max);
        }
        return out;
    }

    /**
     * Every fetch from a node that is up (not killed, paused or starting) and already served that
     * bundle succeeds.
     */
    public static List<String> availability(History h) {
        List<String> out = new ArrayList<>();
        Map<String, Boolean> held = new HashMap<>();
        for (History.Fetch f : h.fetches()) {
            String key = f.node() + "/" + f.bundle();
            if (f.status() == 200) {
                held.put(key, true);
            } else if (f.nodeHealthy() && held.getOrDefault(key, false)) {
                out.add(f.at() + " " + key + " failed with " + f.status() + " (" + f.error() + ") although the node was up and held it");
            }
        }
        return out;
    }

    /** Fetches answered 200. */
    public static long fetchesOk(History h) {
        return h.fetches().stream().filter(f -> f.status() == 200).count();
    }
}
