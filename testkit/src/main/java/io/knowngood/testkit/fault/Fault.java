package io.knowngood.testkit.fault;

import io.knowngood.testkit.cluster.ChaosCluster;
import io.knowngood.testkit.process.NodeProcess;
import java.util.List;
import java.util.Random;

/**
 * One thing that goes wrong, as a small value: it says whether it can run here, breaks something,
 * and mends it. {@code inject} returns the nodes that may legitimately not answer while it lasts
 * (killed or paused ones); every other node must keep serving.
 */
public interface Fault {
    String name();

    /** Null when the fault can run here, else why not (e.g. "needs root for iptables"). */
    String unavailableBecause();

    List<NodeProcess> inject(ChaosCluster cluster, Random random) throws Exception;

    void heal(ChaosCluster cluster) throws Exception;

    /** Properties the fault itself checks (e.g. "no DNS query was made"); empty when they held. */
    default List<String> violations() {
        return List.of();
    }

    /** What the fault measured in its last cycle (e.g. "relayed in 840 ms"), for the run's table; empty for nothing. */
    default String observed() {
        return "";
    }

    /** Undo what would outlive the run if it stopped mid-fault (mounts, ...); runs after the nodes stopped. */
    default void cleanup() throws Exception {
    }
}
