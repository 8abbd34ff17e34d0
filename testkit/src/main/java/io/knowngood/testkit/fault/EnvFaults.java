package io.knowngood.testkit.fault;

import io.knowngood.testkit.cluster.ChaosCluster;
import io.knowngood.testkit.process.NodeProcess;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Faults in a node's surroundings: its clock, its resolver, the central config server. */
public final class EnvFaults {
    public static final Path LIBFAKETIME = Path.of("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1");

    private EnvFaults() {
    }

    /** One node restarts with its wall clock 2 h ahead or behind (libfaketime); monotonic time is left alone. */
    public static final class ClockSkew implements Fault {
        private NodeProcess victim;

        public String name() {
            return "clock-skew";
        }

        public String unavailableBecause() {
            return Files.exists(LIBFAKETIME) ? null : "clock skew needs libfaketime (apt-get install -y faketime)";
        }

        public List<NodeProcess> inject(ChaosCluster c, Random random) throws Exception {
            victim = c.node(random.nextInt(c.nodes().size()));
            victim.kill9();
            victim.wrap(List.of(), Map.of("LD_PRELOAD", LIBFAKETIME.toString(),
                    "FAKETIME", random.nextBoolean() ? "+2h" : "-2h", "FAKETIME_DONT_FAKE_MONOTONIC", "1"));
            victim.start();
            ChaosCluster.awaitUp(victim);
            return List.of();
        }

        public void heal(ChaosCluster c) throws Exception {
            victim.kill9();
            victim.wrap(List.of(), Map.of());
            victim.start();
            ChaosCluster.awaitUp(victim);
        }
    }

    /**
     * One node restarts in a mount namespace whose resolv.conf points at a trap on port 53 of the
     * cluster's {@link ChaosCluster#dnsTrapIp()} (so two runs with different ipBases do not fight over
     * it) that answers nothing and counts queries: the node must make none (it never needs DNS).
     */
    public static final class NoDns implements Fault {
        private NodeProcess victim;
        private DatagramSocket trap;
        private Thread listener;
        private final List<String> queries = new ArrayList<>();

        public String name() {
            return "no-dns";
        }

        public String unavailableBecause() {
            if (!"root".equals(System.getProperty("user.name"))) {
                return "no-dns needs root (unshare -m, port 53)";
            }
            return Files.isExecutable(Path.of("/usr/bin/unshare")) ? null : "no-dns needs unshare (util-linux)";
        }

        public List<NodeProcess> inject(ChaosCluster c, Random random) throws Exception {
            victim = c.node(random.nextInt(c.nodes().size()));
            Path resolv = c.dir().resolve("resolv.conf.trap");
            Files.writeString(resolv, "nameserver " + c.dnsTrapIp() + "\noptions timeout:1 attempts:1\n");
            openTrap(InetAddress.getByName(c.dnsTrapIp()));
            victim.kill9();
            victim.wrap(List.of("unshare", "-m", "sh", "-c", "mount --bind \"$0\" /etc/resolv.conf && exec \"$@\"",
                    resolv.toString()), Map.of());
            victim.start();
            ChaosCluster.awaitUp(victim);
            return List.of();
        }

        private void openTrap(InetAddress at) throws SocketException {
            trap = new DatagramSocket(new InetSocketAddress(at, 53));
            listener = new Thread(() -> {
                byte[] buf = new byte[1500];
                while (!trap.isClosed()) {
                    try {
                        DatagramPacket p = new DatagramPacket(buf, buf.length);
                        trap.receive(p);
                        synchronized (queries) {
                            queries.add("DNS query of " + p.getLength() + " bytes from " + p.getSocketAddress());
                        }
                    } catch (IOException closed) {
                        return;
                    }
                }
            }, "chaos-dns-trap");
            listener.setDaemon(true);
            listener.start();
        }

        @Override
        public void cleanup() {
            if (trap != null) {
                trap.close();
            }
        }

        public void heal(ChaosCluster c) throws Exception {
            trap.close();
            victim.kill9();
            victim.wrap(List.of(), Map.of());
            victim.start();
            ChaosCluster.awaitUp(victim);
        }

        @Override
        public List<String> violations() {
            synchronized (queries) {
                return List.copyOf(queries);
            }
        }
    }

    /** The central config server is down: nothing is published for a while; every node keeps serving. */
    public static final class PublisherDown implements Fault {

        public String name() {
            return "publisher-down";
        }

        public String unavailableBecause() {
            return null;
        }

        public List<NodeProcess> inject(ChaosCluster c, Random random) {
            c.workload().publisherDown(true);
            return List.of();
        }

        public void heal(ChaosCluster c) {
            c.workload().publisherDown(false);
        }
    }
}
