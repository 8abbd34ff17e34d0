package io.knowngood.crypto.bundle;

import java.io.ByteArrayInputStream;
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
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
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
    }

    @Benchmark
    public VerifyResult verifyBytes() {
        return verifier.verify(archive);
    }

    @Benchmark
    public VerifyResult verifyStream() {
        return verifier.verify(new ByteArrayInputStream(archive));
    }

    /** The floor: SHA-256 of the payload and one Ed25519 verify of the manifest. */
    @Benchmark
    public void floor(Blackhole bh) throws Exception {
        bh.consume(MessageDigest.getInstance("SHA-256").digest(payload));
        Ed25519Signer s = new Ed25519Signer();
        s.init(false, publicKey);
        s.update(manifestBytes, 0, manifestBytes.length);
        bh.consume(s.verifySignature(signature));
    }

    @Benchmark
    public byte[] sha256Only() throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(payload);
    }

    @Benchmark
    public boolean ed25519Only() {
        Ed25519Signer s = new Ed25519Signer();
        s.init(false, publicKey);
        s.update(manifestBytes, 0, manifestBytes.length);
        return s.verifySignature(signature);
    }
}
