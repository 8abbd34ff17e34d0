package io.knowngood.testkit.fault;

import io.knowngood.testkit.cluster.ChaosCluster;
import io.knowngood.testkit.process.NodeProcess;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Faults made with signals and restarts: need no privileges. */
public final class ProcessFaults {
    private ProcessFaults() {
    }

    /** kill -9 one node at a random moment, then start it again on the same data dir. */
    public static final class KillNine implements Fault {
        private NodeProcess victim;

        public String name() {
            return "kill-9";
        }

        public String unavailableBecause() {
            return null;
        }

        public List<NodeProcess> inject(ChaosCluster c, Random random) throws InterruptedException {
            victim = c.node(random.nextInt(c.nodes().size()));
            victim.kill9();
            return List.of(victim);
        }

        public void heal(ChaosCluster c) throws Exception {
            victim.start();
            ChaosCluster.awaitUp(victim);
        }
    }

    /**
     * kill -9 a site's master (the coordinator of the site's view, as the site's own nodes report it:
     * every node has a bridge, so the first member of the view relays), then start it again.
     */
    public static final class KillSiteMaster implements Fault {
        private final String site;
        private NodeProcess victim;

        public KillSiteMaster(String site) {
            this.site = site;
        }

        public String name() {
            return "kill-site-master";
        }

        public String unavailableBecause() {
            return null;
        }

        /** The node killed by the last inject. */
        public NodeProcess victim() {
            return victim;
        }

        public List<NodeProcess> inject(ChaosCluster c, Random random) throws InterruptedException {
            victim = c.siteMaster(site).orElseThrow(() -> new IllegalStateException("site " + site + " reports no coordinator"));
            victim.kill9();
            return List.of(victim);
        }

        public void heal(ChaosCluster c) throws Exception {
            victim.start();
            ChaosCluster.awaitUp(victim);
        }
    }

    /** SIGSTOP one node (a frozen VM host, a long GC), then SIGCONT. */
    public static final class Pause implements Fault {
        private NodeProcess victim;

        public String name() {
            return "sigstop";
        }

        public String unavailableBecause() {
            return null;
        }

        public List<NodeProcess> inject(ChaosCluster c, Random random) {
            victim = c.node(random.nextInt(c.nodes().size()));
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
    public static final class RestartAlone implements Fault {
        private final List<NodeProcess> down = new ArrayList<>();

        public String name() {
            return "restart-alone";
        }

        public String unavailableBecause() {
            return null;
        }

        public List<NodeProcess> inject(ChaosCluster c, Random random) throws Exception {
            for (NodeProcess n : c.nodes()) {
                n.kill9();
            }
            NodeProcess alone = c.node(random.nextInt(c.nodes().size()));
            alone.start();
            ChaosCluster.awaitUp(alone);
            down.clear();
            for (NodeProcess n : c.nodes()) {
                if (n != alone) {
                    down.add(n);
                }
            }
            return List.copyOf(down);
        }

        public void heal(ChaosCluster c) throws Exception {
            for (NodeProcess n : down) {
                n.start();
            }
            for (NodeProcess n : down) {
                ChaosCluster.awaitUp(n);
            }
        }
    }
}
