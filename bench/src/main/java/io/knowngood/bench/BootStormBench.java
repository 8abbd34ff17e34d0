package io.knowngood.bench;

import io.knowngood.testkit.cluster.ChaosCluster;
import io.knowngood.testkit.measure.StormClient;
import io.knowngood.testkit.process.MetricsPage;
import io.knowngood.testkit.process.NodeProcess;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * Boot storm: 5,000 simulated VMs start at once against one node; each fetches the bundle list,
 * then the archive (64 KiB), then parks a long-poll. Reports time until all are served, errors and
 * per-VM latency, the node's and this client's CPU seconds during the storm (so the table says which
 * one limits it) and the kernel's listen-queue overflows (each costs a VM a 1 s SYN retransmit). The
 * VMs are driven by {@link StormClient}, one selector thread, so the client costs about what the node
 * does on the shared cores. All clients come from one address here, so the node runs with the
 * per-client connection cap raised (in production each VM has its own address).
 * Run: {@code bench/run.sh BootStormBench [-Dbench.vms=5000] [-Dkgnode.launcher=bin/kgnode]}
 */
public final class BootStormBench {
    private static final int VMS = Integer.getInteger("bench.vms", 5000);

    private BootStormBench() {
    }

    public static void main(String[] args) {
        Results.main("BootStormBench", args, BootStormBench::measure);
    }

    private static void measure(Results results) throws Exception {
        results.param("vms", VMS);
        try (ChaosCluster c = new ChaosCluster(Results.workDir("bootstorm"), NodeProcess.jar(), 1, 91, 18900,
                List.of("--max-connections-per-client", "20000", "--max-connections", "20000"))) {
            NodeProcess n = c.node(0);
            n.start();
            ChaosCluster.awaitUp(n);
            byte[] payload = new byte[64 * 1024];
            new Random(3).nextBytes(payload);
            TreeMap<String, byte[]> files = new TreeMap<>();
            files.put("desktop.reg", payload);
            byte[] archive = c.pack("desktop", 1, files);
            if (c.publish(n, "desktop", archive) != 201) {
                throw new IllegalStateException("publish refused");
            }
            URI vm = URI.create(n.vmUrl());
            List<StormClient.Step> steps = List.of(
                    new StormClient.Step("/v1/bundles", 200, null),
                    new StormClient.Step("/v1/bundles/desktop", 200, archive),
                    new StormClient.Step("/v1/bundles/desktop?wait=20&after=1", 304, null));
            try (StormClient client = new StormClient(new InetSocketAddress(vm.getHost(), vm.getPort()), steps, true)) {
                long nodeCpu0 = n.cpuTicks();
                long clientCpu0 = clientCpuNanos();
                long overflows0 = listenOverflows();
                long t0 = System.nanoTime();
                StormClient.Result r = client.run(VMS, Duration.ofSeconds(120));
                double total = (System.nanoTime() - t0) / 1e6;
                double nodeCpu = (n.cpuTicks() - nodeCpu0) / 100.0;
                double clientCpu = (clientCpuNanos() - clientCpu0) / 1e9;
                long overflows = listenOverflows() - overflows0;
                // the node's own count of parked long-polls, once the last VM's long-poll has reached it
                int[] waiters = {-1};
                try {
                    Awaitility.await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
                            .until(() -> (waiters[0] = nodeWaiters(n)) >= client.parked());
                } catch (ConditionTimeoutException e) {
                    // reported as the smaller number in the table
                }
                int parkedNow = Math.min(client.parked(), waiters[0]);
                long healthStart = System.nanoTime();
                boolean healthy = n.up();
                double healthMs = (System.nanoTime() - healthStart) / 1e6;
                results.table("boot storm, one node, " + VMS + " VMs (list, 64 KiB archive, then a parked long-poll)",
                        "VMs", "all served in ms", "errors", "per-VM p50 / p99 / max ms", "long-polls parked (node count)",
                        "health answer while parked", "node CPU s", "client CPU s", "listen overflows")
                        .row(VMS, Math.round(total), r.errors(), r.perVm().summary(), parkedNow,
                                (healthy ? "200" : "FAILED") + " in " + Math.round(healthMs) + " ms", nodeCpu, clientCpu, overflows);
                if (!r.firstErrors().isEmpty()) {
                    results.note("first errors: " + r.firstErrors());
                }
            }
        }
    }

    private static int nodeWaiters(NodeProcess n) throws Exception {
        return (int) MetricsPage.of(n).value("kgnode_long_poll_waiters").orElse(-1);
    }

    private static long clientCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** TcpExt ListenOverflows: SYNs dropped because an accept queue was full (each costs the client a 1 s+ retransmit). */
    private static long listenOverflows() throws java.io.IOException {
        List<String> lines = Files.readAllLines(Path.of("/proc/net/netstat"));
        for (int i = 0; i + 1 < lines.size(); i++) {
            if (lines.get(i).startsWith("TcpExt:") && lines.get(i + 1).startsWith("TcpExt:")) {
                List<String> names = List.of(lines.get(i).split(" "));
                int at = names.indexOf("ListenOverflows");
                return at < 0 ? -1 : Long.parseLong(lines.get(i + 1).split(" ")[at]);
            }
        }
        return -1;
    }
}
