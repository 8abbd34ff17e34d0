package io.knowngood.bench;

import io.knowngood.bench.Results.Table;
import io.knowngood.testkit.cluster.ChaosCluster;
import io.knowngood.testkit.process.NodeProcess;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * Footprint: RSS and idle CPU of one kgnode holding 1,000 and then 10,000 bundles of 16 KiB.
 * Run: {@code bench/run.sh FootprintBench [-Dbench.bundles.max=10000] [-Dkgnode.launcher=bin/kgnode]
 * [-Dkgnode.jvm="..."]}; with -XX:NativeMemoryTracking=summary in kgnode.jvm it also prints where the
 * committed memory goes.
 */
public final class FootprintBench {
    private static final int MAX = Integer.getInteger("bench.bundles.max", 10_000);
    /** Idle means at most this many CPU ticks (1/100 s) in one second: start-up or publishing has settled. */
    private static final int SETTLED_TICKS = 3;
    private static final Duration IDLE_WINDOW = Duration.ofSeconds(10);

    private FootprintBench() {
    }

    public static void main(String[] args) {
        Results.main("FootprintBench", args, FootprintBench::measure);
    }

    private static void measure(Results results) throws Exception {
        Path jar = NodeProcess.jar();
        String launcher = System.getProperty("kgnode.launcher", "");
        String flags = launcher.isBlank() ? System.getProperty("kgnode.jvm", NodeProcess.DEFAULT_JVM) : "of " + launcher;
        results.param("nodeJvmFlags", flags).param("KGNODE_HEAP", System.getenv().getOrDefault("KGNODE_HEAP", "default"))
                .param("maxBundles", MAX);
        if (!launcher.isBlank()) {
            warmLauncher(jar);
        }
        Table t = results.table("footprint, one node, node JVM flags " + flags, "bundles x 16 KiB", "RSS MiB",
                "of which anon / file / shmem", "idle CPU % over " + IDLE_WINDOW.toSeconds() + " s", "publish rate /s");
        int refusedAt = -1;
        try (ChaosCluster c = new ChaosCluster(Results.workDir("footprint"), jar, 1, 81, 18800)) {
            NodeProcess n = c.node(0);
            n.start();
            ChaosCluster.awaitUp(n);
            row(results, t, n, 0, 0);
            int held = 0;
            Random random = new Random(7);
            for (int target : MAX > 1_000 ? new int[] {1_000, MAX} : new int[] {MAX}) {
                long t0 = System.nanoTime();
                int added = 0;
                for (; held < target; held++, added++) {
                    byte[] content = new byte[16 * 1024];
                    random.nextBytes(content);
                    TreeMap<String, byte[]> files = new TreeMap<>();
                    files.put("config.bin", content);
                    String name = "b" + held;
                    int status = c.publish(n, name, c.pack(name, 1, files));
                    if (status == 507) {
                        refusedAt = held; // the held-bytes budget: measured as it stands, reported below
                        break;
                    }
                    if (status != 201) {
                        throw new IllegalStateException("publish " + name + " got " + status);
                    }
                }
                row(results, t, n, held, added / ((System.nanoTime() - t0) / 1e9));
                if (refusedAt >= 0) {
                    results.note("publish " + (refusedAt + 1) + " was refused with 507 over_budget (held-bytes budget reached)");
                    break;
                }
            }
        }
    }

    private static void row(Results results, Table t, NodeProcess n, int bundles, double rate) throws Exception {
        long pid = n.pid();
        awaitSettled(results, n);
        long cpu0 = n.cpuTicks();
        long t0 = System.nanoTime();
        // the measuring window itself, not a wait for a condition
        Awaitility.await().pollDelay(IDLE_WINDOW).atMost(IDLE_WINDOW.plusSeconds(5)).until(() -> true);
        long cpu1 = n.cpuTicks();
        double seconds = (System.nanoTime() - t0) / 1e9;
        double cpuPct = 100.0 * (cpu1 - cpu0) / 100.0 / seconds;
        nativeMemory(pid, bundles);
        t.row(bundles, Math.round(rssKb(pid, "VmRSS") / 1024.0),
                String.format(Locale.ROOT, "%.0f / %.0f / %.0f", rssKb(pid, "RssAnon") / 1024.0, rssKb(pid, "RssFile") / 1024.0,
                        rssKb(pid, "RssShmem") / 1024.0),
                String.format(Locale.ROOT, "%.1f", cpuPct), rate == 0 ? "-" : String.format(Locale.ROOT, "%.0f", rate));
    }

    /** Waits (at most 30 s) until one second passes with the node (nearly) idle, so start-up or publishing is over. */
    private static void awaitSettled(Results results, NodeProcess n) throws Exception {
        long[] last = {n.cpuTicks()};
        try {
            Awaitility.await("node idle").atMost(Duration.ofSeconds(30)).pollDelay(Duration.ofSeconds(1)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> {
                        long now = n.cpuTicks();
                        long used = now - last[0];
                        last[0] = now;
                        return used <= SETTLED_TICKS;
                    });
        } catch (ConditionTimeoutException e) {
            results.note("node " + n.id() + " did not settle within 30 s (more than " + SETTLED_TICKS + " ticks a second); measured anyway");
        }
    }

    /**
     * One short run through bin/kgnode first, so that its class-data-sharing archive exists (the
     * launcher writes it when the first run ends) and the measured run starts the way users' do.
     */
    private static void warmLauncher(Path jar) throws Exception {
        try (ChaosCluster w = new ChaosCluster(Results.workDir("footprint-warm"), jar, 1, 81, 18800)) {
            w.holdOneAndStop(w.node(0), "warm");
        }
    }

    /** With -XX:NativeMemoryTracking=summary in -Dkgnode.jvm: where the committed memory goes, per JVM area. */
    private static void nativeMemory(long pid, int bundles) throws Exception {
        if (!System.getProperty("kgnode.jvm", "").contains("NativeMemoryTracking")) {
            return;
        }
        String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
        String out = run(jcmd, Long.toString(pid), "VM.native_memory", "summary", "scale=MB");
        StringBuilder b = new StringBuilder("# native memory, " + bundles + " bundles (committed MB):");
        Matcher m = Pattern.compile("(?m)^(?:-\\s*)?([A-Z][A-Za-z ]+?) \\(reserved=\\d+MB, committed=(\\d+)MB\\)").matcher(out);
        while (m.find()) {
            b.append(' ').append(m.group(1).trim()).append('=').append(m.group(2));
        }
        System.out.println(b);
        List<String> lines = run(jcmd, Long.toString(pid), "GC.class_histogram").lines().toList();
        System.out.println("# live heap, " + bundles + " bundles, largest classes (instances, bytes, class):");
        lines.stream().filter(l -> l.matches("\\s*\\d+:.*") || l.startsWith("Total")).limit(16)
                .forEach(l -> System.out.println("#   " + l.trim()));
    }

    private static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(30, TimeUnit.SECONDS);
        return out;
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
