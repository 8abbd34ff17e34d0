package io.knowngood.testkit.workload;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Everything the workload saw, in order: what the checkers read after the run. */
public final class History {
    /**
     * A VM's fetch of one bundle from one node. {@code verified} is the client's own check of the bytes;
     * {@code state} is the response's X-Knowngood-State ({@code good}, {@code rolling}, {@code fallback};
     * null when absent) and {@code latest} its X-Knowngood-Latest (-1 when absent).
     */
    public record Fetch(Instant at, String node, String bundle, int status, long version, String digest, boolean verified,
                 String error, boolean nodeHealthy, String state, long latest) {
        /** A fetch recorded without the rollout headers. */
        public Fetch(Instant at, String node, String bundle, int status, long version, String digest, boolean verified,
                     String error, boolean nodeHealthy) {
            this(at, node, bundle, status, version, digest, verified, error, nodeHealthy, null, -1);
        }
    }

    /**
     * How a version with a rollout policy ended, as the nodes said at the end of its cycle (admin GET
     * /v1/rollouts): its {@code state} ({@code reverted}, {@code good}, {@code rolling}) and the hosts
     * of the waves it had reached (the canary alone for a version reverted in its first wave).
     */
    public record RolloutEnd(String bundle, long version, String state, java.util.Set<String> reachedHosts) {
        public RolloutEnd {
            reachedHosts = java.util.Set.copyOf(reachedHosts);
        }

        public boolean reverted() {
            return "reverted".equals(state);
        }
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
    private final List<RolloutEnd> rollouts = new ArrayList<>();

    public synchronized void add(Fetch f) {
        fetches.add(f);
    }

    public synchronized void add(Publish p) {
        publishes.add(p);
    }

    public synchronized void add(FaultSpan s) {
        faults.add(s);
    }

    public synchronized void add(RolloutEnd r) {
        rollouts.add(r);
    }

    public synchronized List<RolloutEnd> rollouts() {
        return List.copyOf(rollouts);
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
