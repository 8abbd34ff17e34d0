package io.knowngood.crypto.bundle;

import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;

/**
 * Reads and verifies a bundle archive strictly, from the bytes it was given: entry order and types,
 * manifest and signatures syntax, a signature by a trusted key over the exact manifest.json bytes,
 * then each file's size and SHA-256. Never reads or buffers past {@link Limits}. Every failure is
 * a {@link Rejection}; exceptions escape only for bugs. Thread-safe.
 */
public final class BundleVerifier {
    private static final String MANIFEST = "manifest.json";
    private static final String SIGNATURES = "signatures.json";
    private static final int CHUNK_BYTES = 16 * 1024;

    private final TrustedKeys trust;
    private final Limits limits;

    public BundleVerifier(TrustedKeys trust, Limits limits) {
        this.trust = trust;
        this.limits = limits;
    }

    public Limits limits() {
        return limits;
    }

    public TrustedKeys trust() {
        return trust;
    }

    public VerifyResult verify(byte[] archive) {
        if (archive.length > limits.maxBundleBytes()) {
            return rejected(new Rejection.TooLarge("bundle", limits.maxBundleBytes(), archive.length));
        }
        byte[] copy = archive.clone();
        return read(new ArchiveBytes(copy), copy);
    }

    /** Reads at most {@code maxBundleBytes} from {@code in}; a longer stream is rejected as too large. */
    public VerifyResult verify(InputStream in) {
        Capture capture = new Capture(in, limits.maxBundleBytes());
        return read(capture, null);
    }

    /** Verifies and also checks that the bundle is the one it was offered as. */
    public VerifyResult verifyAs(String expectedName, byte[] archive) {
        return named(expectedName, verify(archive));
    }

    /**
     * As {@link #verifyAs}, without the defensive copy: on success {@code archive} itself becomes the
     * verified bundle's backing store, so a held bundle sits in memory once, not once per holder. The
     * caller hands the array over and must never write to it again: use it only for arrays nobody
     * writes (a request body just read, a file just read, a replicated cache value).
     */
    public VerifyResult verifyHandedOverAs(String expectedName, byte[] archive) {
        if (archive.length > limits.maxBundleBytes()) {
            return rejected(new Rejection.TooLarge("bundle", limits.maxBundleBytes(), archive.length));
        }
        return named(expectedName, read(new ArchiveBytes(archive), archive));
    }

    private static VerifyResult named(String expectedName, VerifyResult r) {
        if (r instanceof VerifyResult.Verified v && !v.bundle().name().equals(expectedName)) {
            return rejected(new Rejection.NameMismatch(expectedName, v.bundle().name()));
        }
        return r;
    }

    private VerifyResult read(InputStream raw, byte[] whole) {
        try {
            return readArchive(raw, whole);
        } catch (LimitExceeded e) {
            return rejected(new Rejection.TooLarge("bundle", limits.maxBundleBytes(), -1));
        } catch (IOException e) {
            return rejected(new Rejection.MalformedArchive(firstLine(e.getMessage())));
        }
    }

    private VerifyResult readArchive(InputStream raw, byte[] whole) throws IOException {
        StrictTarInput tar = new StrictTarInput(raw);

        TarArchiveEntry e = tar.nextEntry();
        Rejection bad = checkEntry(tar, e, MANIFEST);
        if (bad != null) {
            return rejected(bad);
        }
        long manifestCap = Math.min(Limits.MAX_MANIFEST_BYTES, limits.maxBundleBytes());
        if (e.getSize() > manifestCap) {
            return rejected(new Rejection.TooLarge(MANIFEST, manifestCap, e.getSize()));
        }
        byte[] manifestBytes = tar.readFully((int) e.getSize());
        ManifestCodec.ParsedManifest pm = ManifestCodec.read(manifestBytes, limits);
        if (pm.rejection() != null) {
            return rejected(pm.rejection());
        }
        Manifest manifest = pm.manifest();

        e = tar.nextEntry();
        bad = checkEntry(tar, e, SIGNATURES);
        if (bad != null) {
            return rejected(bad);
        }
        long signaturesCap = Math.min(Limits.MAX_SIGNATURES_BYTES, limits.maxBundleBytes());
        if (e.getSize() > signaturesCap) {
            return rejected(new Rejection.TooLarge(SIGNATURES, signaturesCap, e.getSize()));
        }
        byte[] signaturesBytes = tar.readFully((int) e.getSize());
        ManifestCodec.ParsedSignatures ps = ManifestCodec.readSignatures(signaturesBytes);
        if (ps.rejection() != null) {
            return rejected(ps.rejection());
        }
        List<KeyId> signers = new ArrayList<>();
        bad = checkSignatures(ps.signatures(), manifestBytes, signers);
        if (bad != null) {
            return rejected(bad);
        }

        // file data is hashed through one small chunk and kept as a slice of the archive, not copied
        Map<String, long[]> spans = new HashMap<>();
        byte[] chunk = new byte[(int) Math.min(CHUNK_BYTES, largestFile(manifest))];
        for (FileEntry f : manifest.files()) {
            String expected = "files/" + f.path();
            e = tar.nextEntry();
            bad = checkEntry(tar, e, expected);
            if (bad != null) {
                return rejected(bad);
            }
            if (e.getSize() != f.size()) {
                return rejected(new Rejection.SizeMismatch(f.path(), f.size(), e.getSize()));
            }
            long start = ((Positioned) raw).position();
            MessageDigest sha = Sha256.newDigest();
            long left = f.size();
            if (raw instanceof ArchiveBytes bytes && start + left <= whole.length) {
                // the bytes are all there: hash them in place and move the tar reader past them
                sha.update(whole, (int) start, (int) left);
                if (bytes.skipWithoutCopying(tar, left, chunk) != left) {
                    return rejected(new Rejection.MalformedArchive("entry " + expected + " is truncated"));
                }
                left = 0;
            }
            while (left > 0) {
                int n = tar.readSome(chunk, 0, (int) Math.min(chunk.length, left));
                if (n < 0) {
                    return rejected(new Rejection.MalformedArchive("entry " + expected + " is truncated"));
                }
                sha.update(chunk, 0, n);
                left -= n;
            }
            String found = Sha256.hex(sha);
            if (!found.equals(f.sha256())) {
                return rejected(new Rejection.HashMismatch(f.path(), f.sha256(), found));
            }
            spans.put(f.path(), new long[] {start, f.size()});
        }
        e = tar.nextEntry();
        if (e != null) {
            return rejected(entryProblem(tar.storedName(e), null));
        }
        byte[] archive;
        if (whole != null) {
            archive = whole;
            if (!((ArchiveBytes) raw).onlyZerosLeft()) {
                return rejected(new Rejection.MalformedArchive("data after the end-of-archive marker"));
            }
        } else {
            Capture c = (Capture) raw;
            if (!onlyZerosLeft(c)) {
                return rejected(new Rejection.MalformedArchive("data after the end-of-archive marker"));
            }
            archive = c.captured();
        }
        Map<String, ByteBuffer> files = new HashMap<>();
        for (Map.Entry<String, long[]> span : spans.entrySet()) {
            long start = span.getValue()[0];
            long size = span.getValue()[1];
            if (start < 0 || start + size > archive.length) {
                throw new IllegalStateException("file data of " + span.getKey() + " is not where the tar reader was");
            }
            files.put(span.getKey(), ByteBuffer.wrap(archive, (int) start, (int) size).slice().asReadOnlyBuffer());
        }
        return new VerifyResult.Verified(new VerifiedBundle(manifest, Sha256.hex(manifestBytes), archive,
                manifestBytes, signaturesBytes, files, signers));
    }

    private static long largestFile(Manifest m) {
        long max = 0;
        for (FileEntry f : m.files()) {
            max = Math.max(max, f.size());
        }
        return max;
    }

    /** Every signature by a trusted key must verify, and there must be at least one. */
    private Rejection checkSignatures(List<ManifestCodec.Signature> signatures, byte[] manifestBytes, List<KeyId> signers) {
        List<String> untrusted = new ArrayList<>();
        for (ManifestCodec.Signature s : signatures) {
            Ed25519PublicKeyParameters key = trust.get(s.keyId());
            if (key == null) {
                untrusted.add(s.keyId().hex());
                continue;
            }
            Ed25519Signer verifier = new Ed25519Signer();
            verifier.init(false, key);
            verifier.update(manifestBytes, 0, manifestBytes.length);
            if (!verifier.verifySignature(s.sig())) {
                return new Rejection.BadSignature(s.keyId().hex());
            }
            signers.add(s.keyId());
        }
        return signers.isEmpty() ? new Rejection.UntrustedKey(untrusted) : null;
    }

    private static Rejection checkEntry(StrictTarInput tar, TarArchiveEntry e, String expected) throws IOException {
        if (e == null) {
            return new Rejection.MissingEntry(expected);
        }
        String type = forbiddenType(e);
        if (type != null) {
            return new Rejection.ForbiddenEntryType(e.getName(), type);
        }
        String stored = tar.storedName(e);
        if (!stored.equals(expected)) {
            return entryProblem(stored, expected);
        }
        return null;
    }

    private static Rejection entryProblem(String name, String expected) {
        String inner = name.startsWith("files/") ? name.substring("files/".length()) : name;
        String problem = BundlePaths.problem(inner);
        if (problem != null) {
            return new Rejection.BadPath(name, problem);
        }
        return new Rejection.UnexpectedEntry(expected, name);
    }

    private static String forbiddenType(TarArchiveEntry e) {
        byte flag = e.getLinkFlag();
        if (flag == TarConstants.LF_NORMAL || flag == TarConstants.LF_OLDNORM) {
            if (e.isSparse()) {
                return "sparse file";
            }
            return null;
        }
        if (e.isSymbolicLink()) {
            return "symbolic link";
        }
        if (e.isLink()) {
            return "hard link";
        }
        if (e.isCharacterDevice()) {
            return "character device";
        }
        if (e.isBlockDevice()) {
            return "block device";
        }
        if (e.isFIFO()) {
            return "FIFO";
        }
        if (e.isDirectory()) {
            return "directory";
        }
        return "entry of type '" + (char) flag + "'";
    }

    private static boolean onlyZerosLeft(InputStream in) throws IOException {
        byte[] b = new byte[8192];
        int n;
        while ((n = in.read(b)) >= 0) {
            for (int i = 0; i < n; i++) {
                if (b[i] != 0) {
                    return false;
                }
            }
        }
        return true;
    }

    private static VerifyResult rejected(Rejection r) {
        return new VerifyResult.Rejected(r);
    }

    private static String firstLine(String s) {
        return s == null ? "unreadable" : s.lines().findFirst().orElse(s);
    }

    /** How far into the archive the tar reader is: where the current entry's data starts. */
    private interface Positioned {
        long position();
    }

    /** The archive given as bytes (already a private copy). */
    private static final class ArchiveBytes extends ByteArrayInputStream implements Positioned {
        private boolean skipping;

        ArchiveBytes(byte[] archive) {
            super(archive);
        }

        @Override
        public long position() {
            return pos;
        }

        /**
         * Moves {@code tar} past {@code n} bytes of entry data without copying them: while skipping,
         * reads only move the position. (tar.skip() would read them into a new 8 KiB array per 8 KiB.)
         */
        long skipWithoutCopying(StrictTarInput tar, long n, byte[] unused) throws IOException {
            skipping = true;
            try {
                long done = 0;
                while (done < n) {
                    int r = tar.readSome(unused, 0, (int) Math.min(unused.length, n - done));
                    if (r < 0) {
                        break;
                    }
                    done += r;
                }
                return done;
            } finally {
                skipping = false;
            }
        }

        @Override
        public synchronized int read(byte[] b, int off, int len) {
            if (!skipping) {
                return super.read(b, off, len);
            }
            int n = (int) Math.min(len, count - pos);
            if (n <= 0) {
                return len == 0 ? 0 : -1;
            }
            pos += n;
            return n;
        }

        boolean onlyZerosLeft() {
            for (int i = pos; i < count; i++) {
                if (buf[i] != 0) {
                    return false;
                }
            }
            pos = count;
            return true;
        }
    }

    /** Signals that the stream holds more than the bundle limit; never escapes this class. */
    private static final class LimitExceeded extends IOException {
        private static final long serialVersionUID = 1L;

        LimitExceeded() {
            super("bundle size limit exceeded");
        }
    }

    /** Counts what is read, keeps a copy (the exact archive bytes), and stops at the limit. */
    private static final class Capture extends FilterInputStream implements Positioned {
        private static final int FIRST_BLOCK = 16 * 1024;
        private static final int LARGEST_BLOCK = 1024 * 1024;
        private final long limit;
        // blocks of growing size, joined once at the end (a ByteArrayOutputStream copies at every doubling)
        private final List<byte[]> blocks = new ArrayList<>();
        private int usedInLast;
        private long count;

        Capture(InputStream in, long limit) {
            super(in);
            this.limit = limit;
        }

        @Override
        public long position() {
            return count;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, (int) Math.min(len, limit - count + 1));
            if (n > 0) {
                count += n;
                if (count > limit) {
                    throw new LimitExceeded();
                }
                keep(b, off, n);
            }
            return n;
        }

        private void keep(byte[] b, int off, int n) {
            while (n > 0) {
                byte[] last = blocks.isEmpty() ? null : blocks.get(blocks.size() - 1);
                if (last == null || usedInLast == last.length) {
                    int size = last == null ? FIRST_BLOCK : Math.min(LARGEST_BLOCK, last.length * 2);
                    last = new byte[(int) Math.min(size, limit + 1)];
                    blocks.add(last);
                    usedInLast = 0;
                }
                int k = Math.min(n, last.length - usedInLast);
                System.arraycopy(b, off, last, usedInLast, k);
                usedInLast += k;
                off += k;
                n -= k;
            }
        }

        @Override
        public long skip(long n) throws IOException {
            byte[] b = new byte[(int) Math.min(8192, Math.max(1, n))];
            long skipped = 0;
            while (skipped < n) {
                int r = read(b, 0, (int) Math.min(b.length, n - skipped));
                if (r < 0) {
                    break;
                }
                skipped += r;
            }
            return skipped;
        }

        @Override
        public boolean markSupported() {
            return false;
        }

        byte[] captured() {
            byte[] out = new byte[(int) count];
            int at = 0;
            for (byte[] block : blocks) {
                int k = (int) Math.min(block.length, count - at);
                System.arraycopy(block, 0, out, at, k);
                at += k;
            }
            return out;
        }
    }
}
