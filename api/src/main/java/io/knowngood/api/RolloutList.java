package io.knowngood.api;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * Admin {@code GET /v1/rollouts} (and {@code GET /v1/rollouts/{name}}): per name and version that has
 * a rollout policy (or a recorded state), as this node sees the mesh.
 *
 * @param node the answering node's id
 */
public record RolloutList(String node, List<Rollout> rollouts) {

    public RolloutList {
        Objects.requireNonNull(node, "node");
        rollouts = rollouts == null ? List.of() : List.copyOf(rollouts);
    }

    /**
     * One version's rollout.
     *
     * @param state {@code rolling}, {@code good} or {@code reverted} (a string: a newer node may add states)
     * @param wave the wave reached, 0-based (for {@code rolling}); {@code waves} counts the implied all-hosts wave
     * @param since when the version entered its current state or wave
     * @param reason why it is in this state, one line ({@code 2 failed reports >= revert_failed 2}, {@code aborted by key 3f..})
     * @param paused a signed pause is in effect
     * @param servedHere the version this node serves for the name now (may be another version)
     * @param expired the version's manifest {@code expires} has passed
     */
    public record Rollout(String name, long version, String state, int wave, int waves, Instant since, String reason,
                          boolean paused, int promoteOk, long promoteAfterSeconds, int revertFailed,
                          int ok, int failed, List<Host> hosts, Long servedHere, Boolean expired) {
        public Rollout {
            hosts = hosts == null ? List.of() : List.copyOf(hosts);
        }
    }

    /**
     * One host's view: its first wave for this version, its VMs' distinct report counts, and the
     * version it serves for the name (when known).
     */
    public record Host(String host, int wave, int ok, int failed, Long serving) {}
}
