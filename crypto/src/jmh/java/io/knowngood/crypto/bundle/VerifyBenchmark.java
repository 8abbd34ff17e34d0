package io.knowngood.crypto.bundle;

import java.io.ByteArrayInputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
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

/**
 * Cost of verifying a one-file bundle against its floor: what any verifier must do at least, one
 * SHA-256 over the payload plus one Ed25519 verify over the manifest bytes. Run with
 * {@link VerifyBenchmarkMain} (see docs/benchmarks-crypto.md).
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
        publicKey = Ed25519Keys.publicParams(keys.getPublic());
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
}
