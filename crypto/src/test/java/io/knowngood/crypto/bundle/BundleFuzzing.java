package io.knowngood.crypto.bundle;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.commons.compress.archivers.tar.TarUtils;

/**
 * The fuzz target shared by the fuzz tests: a few valid seed bundles, mutated by
 * {@link ArchiveMutator} with decisions from the fuzz engine, fed to both verify entry points.
 * Invariants: nothing but a {@link VerifyResult} comes out (no exception), both entry points agree,
 * and a Verified result always carries exactly the manifest, signatures and file bytes of a seed.
 */
final class BundleFuzzing {
    static final KeyPair PUBLISHER = Ed25519Keys.generate();
    static final BundleVerifier VERIFIER = new BundleVerifier(TrustedKeys.of(List.of(PUBLISHER.getPublic())), Limits.defaults());
    static final List<byte[]> SEEDS = seeds();
    static final AtomicLong EXECUTIONS = new AtomicLong();
    static final AtomicLong VERIFIED = new AtomicLong();
    /** No input may take longer: a hang is a finding. (JUnit's @Timeout would bound the whole fuzzing run.) */
    static final Duration PER_INPUT = Duration.ofSeconds(5);
    private static final ExecutorService WORKER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "bundle-fuzz-worker");
        t.setDaemon(true);
        return t;
    });
    private static final List<VerifiedBundle> ORIGINALS = SEEDS.stream()
            .map(s -> ((VerifyResult.Verified) VERIFIER.verify(s)).bundle()).toList();

    private BundleFuzzing() {
    }

    private static List<byte[]> seeds() {
        Clock clock = Clock.fixed(Instant.parse("2026-11-25T10:00:00Z"), ZoneOffset.UTC);
        TreeMap<String, byte[]> two = new TreeMap<>();
        two.put("a.txt", "alpha\n".getBytes(StandardCharsets.UTF_8));
        two.put("etc/b.conf", "bravo=charlie\n".getBytes(StandardCharsets.UTF_8));
        TreeMap<String, byte[]> odd = new TreeMap<>();
        odd.put("empty", new byte[0]);
        odd.put("deep/" + "d".repeat(110) + "/café.conf", "x=1\n".getBytes(StandardCharsets.UTF_8));
        odd.put("block", new byte[513]);
        return List.of(
                BundlePacker.pack("desktop-base", 3, two, Map.of("env", "prod"), PUBLISHER.getPrivate(), clock),
                BundlePacker.pack("odd-shapes", 9, odd, Map.of(), PUBLISHER.getPrivate(), clock),
                BundlePacker.packRetired("old-app", 4, PUBLISHER.getPrivate(), clock));
    }

    /** Decisions from Jazzer's data provider. */
    record FromProvider(FuzzedDataProvider data) implements ArchiveMutator.Choices {
        @Override
        public int pick(int bound) {
            return bound <= 1 ? 0 : data.consumeInt(0, bound - 1);
        }

        @Override
        public byte[] bytes(int maxLength) {
            return data.consumeBytes(maxLength);
        }
    }

    static void fuzzOne(FuzzedDataProvider data) {
        ArchiveMutator.Choices c = new FromProvider(data);
        byte[] seed = SEEDS.get(c.pick(SEEDS.size()));
        byte[] input = ArchiveMutator.mutate(seed, SEEDS, c);
        checkWithin(input, PER_INPUT);
    }

    static void checkWithin(byte[] input, Duration limit) {
        Future<?> f = WORKER.submit(() -> check(input));
        try {
            f.get(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new AssertionError("verifying one input took more than " + limit + " (" + input.length + " bytes)");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw (RuntimeException) e.getCause();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Throws AssertionError when an invariant breaks; any other exception is the verifier's. */
    static void check(byte[] input) {
        EXECUTIONS.incrementAndGet();
        VerifyResult fromBytes = VERIFIER.verify(input);
        VerifyResult fromStream = VERIFIER.verify(new ByteArrayInputStream(input));
        if (fromBytes == null || fromStream == null) {
            throw new AssertionError("verify returned null");
        }
        if (!fromBytes.equals(fromStream)) {
            throw new AssertionError("verify(byte[]) says " + fromBytes + " but verify(InputStream) says " + fromStream);
        }
        if (fromBytes instanceof VerifyResult.Verified v) {
            VERIFIED.incrementAndGet();
            assertIsASeed(v.bundle(), input);
        }
    }

    private static void assertIsASeed(VerifiedBundle b, byte[] input) {
        for (VerifiedBundle original : ORIGINALS) {
            if (original.manifestDigest().equals(b.manifestDigest())) {
                require(Arrays.equals(original.manifestBytes(), b.manifestBytes()), "manifest bytes differ from the seed's");
                require(Arrays.equals(original.signaturesBytes(), b.signaturesBytes()), "signatures differ from the seed's");
                require(original.manifest().equals(b.manifest()), "manifest differs from the seed's");
                for (FileEntry f : original.manifest().files()) {
                    ByteBuffer want = original.fileBytes(f.path()).orElseThrow();
                    require(b.fileBytes(f.path()).map(want::equals).orElse(false), "file " + f.path() + " differs from the seed's");
                }
                require(Arrays.equals(b.archiveBytes(), input), "archive() is not the bytes that were verified");
                byte[] seed = SEEDS.get(ORIGINALS.indexOf(original));
                if (seed.length == input.length && sameEntryLayout(seed, input)) {
                    requireOnlyToleratedChanges(seed, input);
                } else if (input.length > seed.length && Arrays.equals(seed, 0, seed.length, input, 0, seed.length)) {
                    for (int i = seed.length; i < input.length; i++) {
                        require(input[i] == 0, "verified with non-zero data after the end of the archive (offset " + i + ")");
                    }
                }
                requireValidHeaderChecksums(input);
                return;
            }
        }
        throw new AssertionError("verified a manifest no seed has: " + new String(b.manifestBytes(), StandardCharsets.UTF_8));
    }

    /**
     * A same-length archive that verifies may differ from its seed only where tar keeps data
     * nobody signs: mode, uid, gid, mtime, checksum, a regular file's link name, magic and version,
     * user and group names, device numbers, string fields after their NUL, '0' vs NUL as type,
     * another spelling of the same size,
     * names that a PAX record replaces (and a PAX header's own name),
     * the padding after each entry's data, and the zeros after the last entry.
     */
    private static void requireOnlyToleratedChanges(byte[] seed, byte[] input) {
        TarLayout layout = TarLayout.of(seed);
        for (int i = 0; i < seed.length; i++) {
            if (seed[i] != input[i] && !tolerated(layout, i, input)) {
                throw new AssertionError("verified although byte " + i + " changed outside the tolerated fields ("
                        + (seed[i] & 0xff) + " -> " + (input[i] & 0xff) + ", " + where(layout, i) + ")");
            }
        }
    }

    /**
     * Byte-by-byte tolerance only makes sense when the input has the seed's entries at the seed's
     * offsets. An extra PAX header in front shifts everything and can still give the same length
     * (the trailing zeros absorb it); such an input is checked by the content comparison above,
     * not by offsets (found by the fuzzer: a PAX header inserted before manifest.json).
     */
    private static boolean sameEntryLayout(byte[] seed, byte[] input) {
        List<int[]> a = ArchiveMutator.entries(seed);
        List<int[]> b = ArchiveMutator.entries(input);
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (a.get(i)[0] != b.get(i)[0] || seed[a.get(i)[0] + 156] != input[b.get(i)[0] + 156]
                    && !(isRegular(seed[a.get(i)[0] + 156]) && isRegular(input[b.get(i)[0] + 156]))) {
                return false;
            }
        }
        return true;
    }

    private static boolean isRegular(byte type) {
        return type == '0' || type == 0;
    }

    private static boolean tolerated(TarLayout layout, int offset, byte[] input) {
        byte now = input[offset];
        if (offset >= layout.end()) {
            return true;
        }
        byte previousType = 0;
        for (TarLayout.Region r : layout.entries()) {
            boolean nameUnused = r.type() == 'x' || previousType == 'x'; // a PAX header's own name; a name the PAX path replaces
            previousType = r.type();
            if (offset >= r.header() && offset < r.data()) {
                int f = offset - r.header();
                return (nameUnused && (f < 100 || (f >= 345 && f < 500)))
                        || (f >= 124 && f < 136 && sameNumber(layout.seed(), input, r.header() + 124, 12)) // "0144" vs " 144"
                        || (f >= 100 && f < 124) || (f >= 136 && f < 156) || (f >= 265 && f < 345) || f >= 500
                        || (f == 156 && (now == '0' || now == 0)) // '0' and NUL both mean "regular file"
                        || (f >= 157 && f < 265) // a regular file's link name, and the ustar magic and version
                        || afterTerminator(layout.seed(), r.header(), f, 0, 100)
                        || afterTerminator(layout.seed(), r.header(), f, 345, 500);
            }
            if (offset >= r.data() + r.size() && offset < r.paddingEnd()) {
                return true;
            }
        }
        return false;
    }

    /** GNU tar refuses a header with a bad checksum, so a verified archive must have none. */
    private static void requireValidHeaderChecksums(byte[] input) {
        for (int[] e : ArchiveMutator.entries(input)) {
            byte[] header = Arrays.copyOfRange(input, e[0], e[0] + 512);
            boolean ok;
            try {
                ok = TarUtils.verifyCheckSum(header);
            } catch (IllegalArgumentException notOctal) {
                ok = false;
            }
            require(ok, "verified with a bad header checksum at offset " + e[0]);
        }
    }

    private static String where(TarLayout layout, int offset) {
        for (TarLayout.Region r : layout.entries()) {
            if (offset >= r.header() && offset < r.paddingEnd()) {
                return (offset < r.data() ? "header field at " + (offset - r.header()) : "data byte " + (offset - r.data()))
                        + " of entry " + r.name() + " (type " + (char) r.type() + ", size " + r.size() + ")";
            }
        }
        return "after the entries";
    }

    private static boolean sameNumber(byte[] a, byte[] b, int off, int len) {
        try {
            return TarUtils.parseOctalOrBinary(a, off, len) == TarUtils.parseOctalOrBinary(b, off, len);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** Bytes after the NUL that ends a string field (name, link name, prefix) are not part of it. */
    private static boolean afterTerminator(byte[] seed, int header, int f, int from, int to) {
        if (f < from || f >= to) {
            return false;
        }
        for (int i = from; i < f; i++) {
            if (seed[header + i] == 0) {
                return true;
            }
        }
        return false;
    }

    private static void require(boolean ok, String why) {
        if (!ok) {
            throw new AssertionError(why);
        }
    }
}
