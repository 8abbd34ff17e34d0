package io.knowngood.bench;

import io.knowngood.bench.Results.Table;
import io.knowngood.testkit.measure.Percentiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * kgctl's start: wall time of one call through bin/kgctl, without its AppCDS archive
 * ({@code KGCTL_CDS=0}), the call that writes it, and calls that map it (written by the same command,
 * or by {@code --version} for another command), alternating; beside {@code etcd --version}, a Go
 * program's start, for scale.
 * Run: {@code bench/run.sh KgctlBench [-Dbench.rounds=10] [-Dkgctl.launcher=bin/kgctl] [-Dkgctl.jar=JAR]}
 */
public final class KgctlBench {
    private static final int RUNS = Integer.getInteger("bench.rounds", 10);

    private KgctlBench() {
    }

    public static void main(String[] args) {
        Results.main("KgctlBench", args, KgctlBench::measure);
    }

    private static void measure(Results results) throws Exception {
        Path launcher = Path.of(System.getProperty("kgctl.launcher", "bin/kgctl")).toAbsolutePath();
        Path dir = Results.workDir("kgctl");
        Files.createDirectories(dir.resolve("lib"));
        deleteTree(dir.resolve("keys"));
        Path jar = Files.copy(Path.of(System.getProperty("kgctl.jar", "bench/target/kgctl.jar")), dir.resolve("lib/kgctl.jar"),
                StandardCopyOption.REPLACE_EXISTING);
        Path cache = dir.resolve("cache");
        Path jsa = cache.resolve("kgctl.jsa");
        results.param("rounds", RUNS).param("launcher", launcher).param("jar", jar);
        Table t = results.table("one kgctl call, ms from the process start to its exit", "command", "archive", "runs", "p50 / p99 / max ms");

        Path keys = dir.resolve("keys");
        int[] made = {0};
        // each call of "keys generate" writes a key of a new name (an existing one is refused, exit 3)
        java.util.function.Function<String, List<String>> args = name -> name.equals("--version") ? List.of("--version")
                : List.of("keys", "generate", "--out", keys.toString(), "--name", "k" + made[0]++);
        for (String name : List.of("--version", "keys generate")) {
            Percentiles without = new Percentiles();
            Percentiles writing = new Percentiles();
            Percentiles mapped = new Percentiles();
            for (int i = 0; i < RUNS; i++) {
                without.add(call(launcher, jar, cache, false, args.apply(name)));
                Files.deleteIfExists(jsa);
                writing.add(call(launcher, jar, cache, true, args.apply(name)));
                if (!Files.isRegularFile(jsa)) {
                    throw new IllegalStateException("the writing call left no " + jsa);
                }
                mapped.add(call(launcher, jar, cache, true, args.apply(name)));
            }
            t.row("kgctl " + name, "none (KGCTL_CDS=0)", RUNS, without.summary());
            t.row("kgctl " + name, "written by this call", RUNS, writing.summary());
            t.row("kgctl " + name, "mapped, written by the same command", RUNS, mapped.summary());
        }
        // the first call after an install is often not the one a user repeats
        Files.deleteIfExists(jsa);
        call(launcher, jar, cache, true, List.of("--version"));
        Percentiles other = new Percentiles();
        for (int i = 0; i < RUNS; i++) {
            other.add(call(launcher, jar, cache, true, args.apply("keys generate")));
        }
        t.row("kgctl keys generate", "mapped, written by --version", RUNS, other.summary());

        if (!EtcdCluster.available()) {
            results.note(EtcdCluster.MISSING + ": etcd reference row skipped");
            return;
        }
        Percentiles etcd = new Percentiles();
        for (int i = 0; i < RUNS; i++) {
            long t0 = System.nanoTime();
            exec(new ProcessBuilder("etcd", "--version"));
            etcd.add((System.nanoTime() - t0) / 1e6);
        }
        t.row("etcd --version (a Go program's start, for scale)", "-", RUNS, etcd.summary());
    }

    /** One call of the launcher, ms from the process start to its exit (which must be 0). */
    private static double call(Path launcher, Path jar, Path cache, boolean cds, List<String> args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(launcher.toString()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("KGCTL_JAR", jar.toString());
        pb.environment().put("KGCTL_CACHE_DIR", cache.toString());
        pb.environment().put("KGCTL_CDS", cds ? "1" : "0");
        pb.environment().remove("KGCTL_JAVA_OPTS");
        long t0 = System.nanoTime();
        exec(pb);
        return (System.nanoTime() - t0) / 1e6;
    }

    private static void deleteTree(Path p) throws IOException {
        if (Files.exists(p)) {
            try (java.util.stream.Stream<Path> s = Files.walk(p)) {
                for (Path f : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(f);
                }
            }
        }
    }

    private static void exec(ProcessBuilder pb) throws IOException, InterruptedException {
        Process p = pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(pb.command() + " did not finish in 60 s");
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException(pb.command() + " exited " + p.exitValue());
        }
    }
}
