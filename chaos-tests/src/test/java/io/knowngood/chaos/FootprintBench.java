package io.knowngood.chaos;

import io.knowngood.testkit.cluster.ChaosCluster;
import io.knowngood.testkit.process.NodeProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Footprint: RSS and idle CPU of one kgnode holding 1,000 and then 10,000 bundles of 16 KiB.
 * Run: bench/run.sh FootprintBench
 */
class FootprintBench {
    @Test
    void footprint() throws Exception {
        Path jar = Path.of(System.getProperty("kgnode.jar")).toAbsolutePath();
        Assumptions.assumeTrue(jar.toFile().isFile(), "kgnode jar missing: " + jar);
        Path dir = Path.of("target", "bench", "footprint").toAbsolutePath();
        if (!System.getProperty("kgnode.launcher", "").isBlank()) {
            warmLauncher(jar);
        }
        StringBuilder table = new StringBuilder("| bundles x 16 KiB | RSS MiB | of which anon / file / shmem | idle CPU % over 10 s | publish rate /s |\n|---|---|---|---|---|\n");
        int refusedAt = -1;
        try (ChaosCluster c = new ChaosCluster(dir, jar, 1, 81, 18800)) {
            NodeProcess n = c.node(0);
            n.start();
            ChaosCluster.awaitUp(n);
            table.append(row(c, n, 0, 0, 0));
            int held = 0;
            Random random = new Random(7);
            for (int target : Integer.getInteger("bench.bundles.max", 10_000) > 1_000 ? new int[] {1_000, 10_000} : new int[] {1_000}) {
                long t0 = System.nanoTime();
                int added = 0;
                for (; held < target; held++, added++) {
                    byte[] content = new byte[16 * 1024];
                    random.nextBytes(content);
                    TreeMap<String, byte[]> files = new TreeMap<>();
                    files.put("config.bin", content);
                    String name = "b" + held;
                    byte[] archive = io.knowngood.crypto.bundle.BundlePacker.pack(name, 1, files, Map.of(),
                            c.publisher().getPrivate(), java.time.Clock.systemUTC());
                    int status = c.publish(n, name, archive);
                    if (status == 507) {
                        refusedAt = held; // the held-bytes budget: measured as it stands, reported below
                        break;
                    }
                    if (status != 201) {
                        throw new IllegalStateException("publish " + name + " got " + status);
                    }
                }
                double rate = added / ((System.nanoTime() - t0) / 1e9);
                table.append(row(c, n, held, rate, 1));
                if (refusedAt >= 0) {
                    break;
                }
            }
        }
        System.out.println("\n# footprint, one node, nproc " + Runtime.getRuntime().availableProcessors() + ", java "
                + System.getProperty("java.version") + ", node JVM flags " + (!System.getProperty("kgnode.launcher", "").isBlank() ? "of bin/kgnode"
                : System.getProperty("kgnode.jvm", NodeProcess.DEFAULT_JVM)) + ", KGNODE_HEAP "
                + System.getenv().getOrDefault("KGNODE_HEAP", "default") + "\n" + table
                + (refusedAt >= 0 ? "publish " + (refusedAt + 1) + " was refused with 507 over_budget (held-bytes budget reached)\n" : ""));
    }

    private static String row(ChaosCluster c, NodeProcess n, int bundles, double rate, int unused) throws Exception {
        long pid = n.pid();
        // let start-up or publishing settle before measuring idle
        Awaitility.await().pollDelay(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(10)).until(() -> true);
        long cpu0 = n.cpuTicks();
        long t0 = System.nanoTime();
        Awaitility.await().pollDelay(Duration.ofSeconds(10)).atMost(Duration.ofSeconds(15)).until(() -> true);
        long cpu1 = n.cpuTicks();
        double seconds = (System.nanoTime() - t0) / 1e9;
        double cpuPct = 100.0 * (cpu1 - cpu0) / 100.0 / seconds;
        nativeMemory(pid, bundles);
        return String.format(Locale.ROOT, "| %d | %.0f | %.0f / %.0f / %.0f | %.1f | %s |%n", bundles, rssKb(pid, "VmRSS") / 1024.0,
                rssKb(pid, "RssAnon") / 1024.0, rssKb(pid, "RssFile") / 1024.0, rssKb(pid, "RssShmem") / 1024.0, cpuPct,
                rate == 0 ? "-" : String.format(Locale.ROOT, "%.0f", rate));
    }

    /**
     * One short run through bin/kgnode first, so that its class-data-sharing archive exists (the
     * launcher writes it when the first run ends) and the measured run starts the way users' do.
     */
    private static void warmLauncher(Path jar) throws Exception {
        try (ChaosCluster w = new ChaosCluster(Path.of("target", "bench", "footprint-warm").toAbsolutePath(), jar, 1, 81, 18800)) {
            w.holdOneAndStop(w.node(0), "warm");
        }
    }

    /** With -XX:NativeMemoryTracking=summary in -Dchaos.node.jvm: where the committed memory goes, per JVM area. */
    private static void nativeMemory(long pid, int bundles) throws Exception {
        if (!System.getProperty("kgnode.jvm", "").contains("NativeMemoryTracking")) {
            return;
        }
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                Long.toString(pid), "VM.native_memory", "summary", "scale=MB").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        p.waitFor();
        StringBuilder b = new StringBuilder("# native memory, " + bundles + " bundles (committed MB):");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^(?:-\\s*)?([A-Z][A-Za-z ]+?) \\(reserved=\\d+MB, committed=(\\d+)MB\\)")
                .matcher(out);
        while (m.find()) {
            b.append(' ').append(m.group(1).trim()).append('=').append(m.group(2));
        }
        System.out.println(b);
        Process h = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                Long.toString(pid), "GC.class_histogram").redirectErrorStream(true).start();
        List<String> lines = new String(h.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).lines().toList();
        h.waitFor();
        System.out.println("# live heap, " + bundles + " bundles, largest classes (instances, bytes, class):");
        lines.stream().filter(l -> l.matches("\\s*\\d+:.*") || l.startsWith("Total")).limit(16)
                .forEach(l -> System.out.println("#   " + l.trim()));
    }

    private static long rssKb(long pid, String field) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }
}
