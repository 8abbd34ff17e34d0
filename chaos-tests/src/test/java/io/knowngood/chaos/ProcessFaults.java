package io.knowngood.chaos;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.awaitility.Awaitility;

/** Faults made with signals and restarts: need no privileges. */
final class ProcessFaults {
    private ProcessFaults() {
    }

    static void awaitHealthy(ChaosCluster c, NodeProcess n) {
        Awaitility.await(n + " healthy").atMost(NodeProcess.startDeadline()).pollInterval(Duration.ofMillis(100))
                .until(() -> c.healthy(n));
    }

    /** kill -9 one node at a random moment, then start it again on the same data dir. */
    static final class KillNine implements Fault {
        private NodeProcess victim;

        public String name() {
            return "kill-9";
        }

        public String unavailableBecause() {
            return null;
        }

        public List<NodeProcess> inject(ChaosCluster c, Random random) throws InterruptedException {
            victim = c.nodes.get(random.nextInt(c.nodes.size()));
            victim.kill9();
            return List.of(victim);
        }

        public void heal(ChaosCluster c) throws Exception {
            c.start(victim);
            awaitHealthy(c, victim);
        }
    }

    /** SIGSTOP one node (a frozen VM host, a long GC), then SIGCONT. */
    static final class Pause implements Fault {
        private NodeProcess victim;

        public String name() {
            return "sigstop";
        }

        public String unavailableBecause() {
            return null;
        }

        public List<NodeProcess> inject(ChaosCluster c, Random random) {
            victim = c.nodes.get(random.nextInt(c.nodes.size()));
            ChaosCluster.signal(victim, "STOP");
            return List.of(victim);
        }

        public void heal(ChaosCluster c) {
            ChaosCluster.signal(victim, "CONT");
        }
    }

    /**
     * Every node goes down; one restarts with all its peers (and, for it, the publisher) gone. It
     * must serve what it had from disk, alone.
     */
    static final class RestartAlone implements Fault {
        private final List<NodeProcess> down = new ArrayList<>();

        public String name() {
            return "restart-alone";
        }

        public String unavailableBecause() {
            return null;
        }

        public List<NodeProcess> inject(ChaosCluster c, Random random) throws Exception {
            for (NodeProcess n : c.nodes) {
                n.kill9();
            }
            NodeProcess alone = c.nodes.get(random.nextInt(c.nodes.size()));
            c.start(alone);
            awaitHealthy(c, alone);
            down.clear();
            for (NodeProcess n : c.nodes) {
                if (n != alone) {
                    down.add(n);
                }
            }
            return List.copyOf(down);
        }

        public void heal(ChaosCluster c) throws Exception {
            for (NodeProcess n : down) {
                c.start(n);
            }
            for (NodeProcess n : down) {
                awaitHealthy(c, n);
            }
        }
    }
}
