package io.knowngood.node.rollout;

import io.knowngood.node.rollout.RolloutRecord.NameVersion;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What this host's VMs reported, per version: one entry per VM source address (a later report from
 * the same address replaces its earlier one), so the counts are of distinct VMs. Bounded: at most
 * {@link #MAX_VMS_PER_VERSION} addresses per version and {@link #MAX_VERSIONS} versions (the oldest
 * reported-on version is forgotten first). Not thread-safe: the {@link Rollouts} lock guards it.
 */
final class VmReports {

    static final int MAX_VMS_PER_VERSION = 100_000;
    static final int MAX_VERSIONS = 1_000;
    static final int RECENT_FAILURES = 5;

    record Report(boolean ok, long atMs, String detail) {}

    record Counts(int ok, int failed) {}

    /** A failure report kept for status: which VM, when, what it said. */
    record Failure(String address, long atMs, String detail) {}

    enum Outcome { COUNTED, REPLACED, FULL }

    private final Map<NameVersion, Map<String, Report>> byVersion = new LinkedHashMap<>();
    private final Map<NameVersion, Deque<Failure>> failures = new HashMap<>();

    Outcome record(NameVersion nv, String address, Report report) {
        Map<String, Report> vms = byVersion.get(nv);
        if (vms == null) {
            if (byVersion.size() >= MAX_VERSIONS) {
                NameVersion oldest = byVersion.keySet().iterator().next();
                byVersion.remove(oldest);
                failures.remove(oldest);
            }
            vms = new HashMap<>();
            byVersion.put(nv, vms);
        }
        if (!vms.containsKey(address) && vms.size() >= MAX_VMS_PER_VERSION) {
            return Outcome.FULL;
        }
        Report before = vms.put(address, report);
        if (!report.ok()) {
            Deque<Failure> f = failures.computeIfAbsent(nv, k -> new ArrayDeque<>());
            f.addFirst(new Failure(address, report.atMs(), report.detail()));
            while (f.size() > RECENT_FAILURES) {
                f.removeLast();
            }
        }
        return before == null ? Outcome.COUNTED : Outcome.REPLACED;
    }

    Counts counts(NameVersion nv) {
        Map<String, Report> vms = byVersion.get(nv);
        if (vms == null) {
            return new Counts(0, 0);
        }
        int ok = 0;
        for (Report r : vms.values()) {
            if (r.ok()) {
                ok++;
            }
        }
        return new Counts(ok, vms.size() - ok);
    }

    List<Failure> recentFailures(NameVersion nv) {
        Deque<Failure> f = failures.get(nv);
        return f == null ? List.of() : List.copyOf(f);
    }

    /** For the state file: every version's reports. */
    Map<NameVersion, Map<String, Report>> all() {
        return byVersion;
    }

    void forget(NameVersion nv) {
        byVersion.remove(nv);
        failures.remove(nv);
    }
}
