package io.knowngood.chaos;

import io.knowngood.crypto.bundle.BundlePacker;
import io.knowngood.crypto.bundle.Ed25519Keys;
import io.knowngood.replication.RogueMember;
import io.knowngood.testkit.cluster.ChaosCluster;
import io.knowngood.testkit.fault.Fault;
import io.knowngood.testkit.process.NodeProcess;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.awaitility.Awaitility;

/**
 * A rogue but admitted member (its certificate is from the mesh CA) joins the mesh and writes straight into the cache: a
 * bundle signed by its own key, an unsigned blob, a valid bundle under another name, and an older
 * validly signed version (a replay). The checkers must see none of it served.
 */
final class RogueWriter implements Fault {
    private RogueMember rogue;

    public String name() {
        return "rogue-member";
    }

    public String unavailableBecause() {
        return null;
    }

    public List<NodeProcess> inject(ChaosCluster c, Random random) throws Exception {
        List<InetSocketAddress> peers = new ArrayList<>();
        for (NodeProcess n : c.nodes()) {
            peers.add(new InetSocketAddress(InetAddress.getByName(n.ip()), n.clusterPort()));
        }
        rogue = new RogueMember(c.clusterName(), new InetSocketAddress(InetAddress.getByName(c.rogueIp()), c.rogueClusterPort()),
                peers, c.verifier(), c.meshCa().issue("rogue"));
        rogue.start();
        try {
            Awaitility.await("rogue admitted to the mesh").atMost(Duration.ofSeconds(60)).until(rogue::clustered);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            // Seen once in CI: the rogue joined the JGroups view but its cache never became ready, so it
            // could not write. Nothing was written, so nothing can be exposed; say so loudly (open flake).
            System.out.println("rogue-member: NOT ADMITTED within 60 s (cache not ready); nothing written this cycle");
            rogue.close();
            rogue = null;
            return List.of();
        }
        KeyPair own = Ed25519Keys.generate();
        for (String b : c.workload().bundles()) {
            TreeMap<String, byte[]> files = new TreeMap<>();
            files.put("config.ini", "[rogue]\nowned=yes\n".getBytes());
            write(b, BundlePacker.pack(b, Long.MAX_VALUE / 2, files, Map.of(), own.getPrivate(), Clock.systemUTC()));
            write(b, new byte[] {'n', 'o', 't', ' ', 'a', ' ', 't', 'a', 'r'});
            write(b, c.pack(b, 1));
        }
        String first = c.workload().bundles().get(0);
        String second = c.workload().bundles().get(1);
        write(second, c.pack(first, Long.MAX_VALUE / 4));
        return List.of();
    }

    /**
     * One rogue write, tried again while the rogue's cache is still in a rebalance: a put during one
     * can fail locally with "ISPN000637: Timeout waiting for topology" (stop 28's CI, 2026-12-02), which
     * says nothing about the nodes under test. A write that never lands fails the run, as before.
     */
    private void write(String key, byte[] value) {
        Awaitility.await("rogue write of " + key + " accepted by its own cache").atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(200))
                .ignoreException(org.infinispan.commons.TimeoutException.class)
                .until(() -> {
                    rogue.write(key, value);
                    return true;
                });
    }

    public void heal(ChaosCluster c) {
        if (rogue != null) {
            rogue.close();
            rogue = null;
        }
    }

    @Override
    public void cleanup() {
        heal(null);
    }
}
