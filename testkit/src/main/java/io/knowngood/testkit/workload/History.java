package io.knowngood.testkit.workload;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Everything the workload saw, in order: what the checkers read after the run. */
public final class History {
    /** A VM's fetch of one bundle from one node. {@code verified} is the client's own check of the bytes. */
    public record Fetch(Instant at, String node, String bundle, int status, long version, String digest, boolean verified,
                 String error, boolean nodeHealthy) {
    }

    /** A publish of one version to one node and the status it got (-1: no answer). */
    public record Publish(Instant at, String node, String bundle, long version, int status) {
    }

    /** A fault's span; {@code affected} are nodes that may legitimately not answer during it. */
    public record FaultSpan(String fault, Instant injected, Instant healed, List<String> affected, Instant converged) {
    }

    private final List<Fetch> fetches = new ArrayList<>();
    private final List<Publish> publishes = new ArrayList<>();
    private final List<FaultSpan> faults = new ArrayList<>();

    public synchronized void add(Fetch f) {
        fetches.add(f);
    }

    public synchronized void add(Publish p) {
        publishes.add(p);
    }

    public synchronized void add(FaultSpan s) {
        faults.add(s);
    }

    public synchronized List<Fetch> fetches() {
        return List.copyOf(fetches);
    }

    public synchronized List<Publish> publishes() {
        return List.copyOf(publishes);
    }

    public synchronized List<FaultSpan> faults() {
        return List.copyOf(faults);
    }
}
