package io.knowngood.bench;

import io.knowngood.crypto.bundle.BundlePacker;
import io.knowngood.crypto.bundle.BundleVerifier;
import io.knowngood.crypto.bundle.Ed25519Keys;
import io.knowngood.crypto.bundle.Limits;
import io.knowngood.crypto.bundle.TrustedKeys;
import io.knowngood.crypto.bundle.VerifyResult;
import java.io.ByteArrayInputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.bouncycastle.crypto.util.PublicKeyFactory;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Cost of verifying a one-file bundle against its floor: what any verifier must do at least, one
 * SHA-256 over the payload plus one Ed25519 verify over the manifest bytes. Its main runs it with JMH
 * and prints verify cost beside the floor and their ratio, one row per bundle size.
 * Run: {@code bench/run.sh VerifyBenchmark [JMH options, default -f 1 -wi 3 -i 5 -w 1s -r 1s]}
 * (see docs/benchmarks-crypto.md).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class VerifyBenchmark {
    @Param({"16384", "1048576"})
    public int payloadBytes;

    private BundleVerifier verifier;
    private byte[] archive;
    private byte[] payload;
    private byte[] manifestBytes;
    private byte[] signature;
    private Ed25519PublicKeyParameters publicKey;
    private MessageDigest sha256;

    @Setup
    public void setUp() {
        KeyPair keys = Ed25519Keys.generate();
        payload = new byte[payloadBytes];
        new Random(42).nextBytes(payload);
        TreeMap<String, byte[]> files = new TreeMap<>();
        files.put("payload.bin", payload);
        archive = BundlePacker.pack("bench", 1, files, Map.of("env", "bench"), keys.getPrivate(),
                Clock.fixed(Instant.parse("2026-11-25T10:00:00Z"), ZoneOffset.UTC));
        verifier = new BundleVerifier(TrustedKeys.of(List.of(keys.getPublic())), Limits.defaults());
        VerifyResult r = verifier.verify(archive);
        if (!(r instanceof VerifyResult.Verified v)) {
            throw new IllegalStateException("benchmark bundle does not verify: " + r);
        }
        manifestBytes = v.bundle().manifestBytes();
        signature = Ed25519Keys.sign(keys.getPrivate(), manifestBytes); // deterministic: the same as in the archive
        try {
            // the BouncyCastle parameters of the same key, from its X.509 encoding (as TrustedKeys holds them)
            publicKey = (Ed25519PublicKeyParameters) PublicKeyFactory.createKey(keys.getPublic().getEncoded());
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        try {
            sha256 = MessageDigest.getInstance("SHA-256"); // cloned per use: no provider lookup in the floor
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * CPU time of the benchmark thread per operation, beside JMH's wall-clock time: on a machine
     * shared with other work, waiting for a core inflates wall time but not CPU time. Reading the
     * thread's CPU clock costs about a microsecond per operation, the same for every benchmark.
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class CpuTime {
        private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
        public long cpuNanos;
        public long calls;

        @Setup(Level.Iteration)
        public void reset() {
            cpuNanos = 0;
            calls = 0;
        }

        long start() {
            return THREADS.getCurrentThreadCpuTime();
        }

        void stop(long start) {
            cpuNanos += THREADS.getCurrentThreadCpuTime() - start;
            calls++;
        }
    }

    @Benchmark
    public VerifyResult verifyBytes(CpuTime cpu) {
        long t = cpu.start();
        VerifyResult r = verifier.verify(archive);
        cpu.stop(t);
        return r;
    }

    @Benchmark
    public VerifyResult verifyStream(CpuTime cpu) {
        long t = cpu.start();
        VerifyResult r = verifier.verify(new ByteArrayInputStream(archive));
        cpu.stop(t);
        return r;
    }

    /** The floor: SHA-256 of the payload and one Ed25519 verify of the manifest. */
    @Benchmark
    public void floor(Blackhole bh, CpuTime cpu) throws Exception {
        long t = cpu.start();
        bh.consume(((MessageDigest) sha256.clone()).digest(payload));
        Ed25519Signer s = new Ed25519Signer();
        s.init(false, publicKey);
        s.update(manifestBytes, 0, manifestBytes.length);
        bh.consume(s.verifySignature(signature));
        cpu.stop(t);
    }

    @Benchmark
    public byte[] sha256Only(CpuTime cpu) throws Exception {
        long t = cpu.start();
        byte[] d = ((MessageDigest) sha256.clone()).digest(payload);
        cpu.stop(t);
        return d;
    }

    /** What verify(byte[]) spends on its private copy of the archive (so the caller cannot change it afterwards). */
    @Benchmark
    public byte[] archiveCopyOnly(CpuTime cpu) {
        long t = cpu.start();
        byte[] copy = archive.clone();
        cpu.stop(t);
        return copy;
    }

    @Benchmark
    public boolean ed25519Only(CpuTime cpu) {
        long t = cpu.start();
        Ed25519Signer s = new Ed25519Signer();
        s.init(false, publicKey);
        s.update(manifestBytes, 0, manifestBytes.length);
        boolean ok = s.verifySignature(signature);
        cpu.stop(t);
        return ok;
    }

    public static void main(String[] args) {
        Results.main("VerifyBenchmark", args, r -> measure(r, args));
    }

    /** JMH options from the command line (all but --json), defaults when none are given. */
    private static void measure(Results results, String[] args) throws Exception {
        java.util.List<String> jmh = new java.util.ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--json")) {
                i++;
            } else if (!args[i].startsWith("--json=")) {
                jmh.add(args[i]);
            }
        }
        if (jmh.isEmpty()) {
            jmh.addAll(List.of("-f", "1", "-wi", "3", "-i", "5", "-w", "1s", "-r", "1s"));
        }
        results.param("jmh", String.join(" ", jmh));
        CommandLineOptions cli = new CommandLineOptions(jmh.toArray(new String[0]));
        OptionsBuilder builder = new OptionsBuilder();
        builder.parent(cli);
        if (cli.getIncludes().isEmpty()) {
            builder.include(VerifyBenchmark.class.getName() + ".*");
        }
        Options options = builder.build();
        Collection<RunResult> runs = new Runner(options).run();

        Map<Integer, Map<String, double[]>> byPayload = new TreeMap<>();
        for (RunResult r : runs) {
            int payload = Integer.parseInt(r.getParams().getParam("payloadBytes"));
            String method = r.getParams().getBenchmark().substring(r.getParams().getBenchmark().lastIndexOf('.') + 1);
            // on a shared machine other work only ever adds time: the fastest iteration is the least
            // disturbed one, the median says how typical it is
            double min = r.getPrimaryResult().getStatistics().getMin();
            double median = r.getPrimaryResult().getStatistics().getPercentile(50);
            double cpuNanos = r.getSecondaryResults().get("cpuNanos").getScore();
            double calls = r.getSecondaryResults().get("calls").getScore();
            double cpuMicros = cpuNanos / calls / 1000.0;
            byPayload.computeIfAbsent(payload, k -> new TreeMap<>()).put(method, new double[] {min, median, cpuMicros});
        }
        Results.Table wall = results.table("verify cost, us/op: fastest measured iteration (median of the iterations in brackets); ratios from the fastest",
                "payload", "verify(byte[])", "verify(InputStream)", "floor (SHA-256 + Ed25519)", "SHA-256 only", "Ed25519 only",
                "verify(byte[]) / floor", "verify(InputStream) / floor");
        byPayload.forEach((payload, m) -> wall.row(label(payload), cell(m.get("verifyBytes")), cell(m.get("verifyStream")),
                cell(m.get("floor")), cell(m.get("sha256Only")), cell(m.get("ed25519Only")),
                ratio(m.get("verifyBytes"), m.get("floor"), 0), ratio(m.get("verifyStream"), m.get("floor"), 0)));
        Results.Table cpuTable = results.table("us of CPU time per op (thread CPU clock, all measured iterations): what other work on the machine disturbs least",
                "payload", "verify(byte[])", "verify(InputStream)", "floor", "SHA-256 only", "Ed25519 only", "archive copy only",
                "verify(byte[]) / floor", "verify(InputStream) / floor");
        byPayload.forEach((payload, m) -> cpuTable.row(label(payload), cpu(m.get("verifyBytes")), cpu(m.get("verifyStream")),
                cpu(m.get("floor")), cpu(m.get("sha256Only")), cpu(m.get("ed25519Only")), cpu(m.get("archiveCopyOnly")),
                ratio(m.get("verifyBytes"), m.get("floor"), 2), ratio(m.get("verifyStream"), m.get("floor"), 2)));
    }

    private static String cell(double[] v) {
        return v == null ? "-" : String.format(java.util.Locale.ROOT, "%.1f (%.1f)", v[0], v[1]);
    }

    private static String cpu(double[] v) {
        return v == null ? "-" : String.format(java.util.Locale.ROOT, "%.1f", v[2]);
    }

    private static String ratio(double[] a, double[] b, int column) {
        return a == null || b == null ? "-" : String.format(java.util.Locale.ROOT, "%.2fx", a[column] / b[column]);
    }

    private static String label(int payload) {
        return payload >= 1024 * 1024 ? payload / (1024 * 1024) + " MiB" : payload / 1024 + " KiB";
    }
}
