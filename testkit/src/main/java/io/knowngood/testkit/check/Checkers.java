package io.knowngood.testkit.check;

import io.knowngood.testkit.workload.History;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

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

    /**
     * Per node and bundle, the served version never goes down, across restarts too, with one
     * exception, the health-gated rollback: a response may come down to a lower version when it says
     * {@code fallback}, every version this node served above it is known reverted ({@link
     * History#rollouts()}), and it is not below the highest version served as {@code good} for that
     * bundle by any node so far (the rollback floor of known good). Every other downgrade is a
     * violation.
     */
    public static List<String> noRegression(History h) {
        List<String> out = new ArrayList<>();
        Set<String> reverted = new HashSet<>();
        for (History.RolloutEnd r : h.rollouts()) {
            if (r.reverted()) {
                reverted.add(r.bundle() + "@" + r.version());
            }
        }
        Map<String, Long> highest = new HashMap<>();
        Map<String, TreeSet<Long>> served = new HashMap<>();
        Map<String, Long> goodFloor = new HashMap<>();
        for (History.Fetch f : h.fetches()) {
            if (f.status() != 200 || !f.verified()) {
                continue;
            }
            String key = f.node() + "/" + f.bundle();
            Long before = highest.get(key);
            if (before != null && f.version() < before) {
                String why = rollbackRefused(f, served.get(key), reverted, goodFloor.getOrDefault(f.bundle(), 0L));
                if (why != null) {
                    out.add(f.at() + " " + key + " went from version " + before + " down to " + f.version() + why);
                }
            }
            highest.merge(key, f.version(), Math::max);
            served.computeIfAbsent(key, k -> new TreeSet<>()).add(f.version());
            if ("good".equals(f.state())) {
                goodFloor.merge(f.bundle(), f.version(), Math::max);
            }
        }
        return out;
    }

    /** Null when a downgrade to {@code f}'s version is an allowed rollback, else why it is not (appended to the violation). */
    private static String rollbackRefused(History.Fetch f, TreeSet<Long> servedHere, Set<String> reverted, long floor) {
        if (f.state() == null) {
            return "";
        }
        if (!"fallback".equals(f.state())) {
            return " (state " + f.state() + ", not fallback)";
        }
        for (long v : servedHere.tailSet(f.version(), false)) {
            if (!reverted.contains(f.bundle() + "@" + v)) {
                return " (fallback, but version " + v + " served here before is not known reverted)";
            }
        }
        if (f.version() < floor) {
            return " (fallback below version " + floor + ", the highest ever served as good)";
        }
        return null;
    }

    /**
     * A version that ended reverted was never served (200) by a node outside the waves it had reached
     * (for a version reverted in a canary-only first wave: by any node but the canary).
     */
    public static List<String> revertedServedOnlyInItsWaves(History h) {
        List<String> out = new ArrayList<>();
        Map<String, History.RolloutEnd> ended = new HashMap<>();
        for (History.RolloutEnd r : h.rollouts()) {
            if (r.reverted()) {
                ended.put(r.bundle() + "@" + r.version(), r);
            }
        }
        for (History.Fetch f : h.fetches()) {
            if (f.status() != 200 || !f.verified()) {
                continue;
            }
            History.RolloutEnd r = ended.get(f.bundle() + "@" + f.version());
            if (r != null && !r.reachedHosts().contains(f.node())) {
                out.add(f.at() + " " + f.node() + " served " + f.bundle() + " version " + f.version()
                        + ", which was reverted having reached only " + new TreeSet<>(r.reachedHosts()));
            }
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
