package io.knowngood.crypto.bundle;

import java.io.IOException;
import java.io.InputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;

/**
 * Reads and verifies a bundle archive strictly, from the bytes it was given: entry order and types,
 * manifest and signatures syntax, a signature by a trusted key over the exact manifest.json bytes,
 * then each file's size and SHA-256. Never reads or buffers past {@link Limits}. Every failure is
 * a {@link Rejection}; exceptions escape only for bugs. Thread-safe.
 */
public final class BundleVerifier {
    private final TrustedKeys trust;
    private final SignaturePolicy signatures;
    private final Limits limits;

    public BundleVerifier(TrustedKeys trust, Limits limits) {
        this.trust = trust;
        this.signatures = new SignaturePolicy(trust);
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
        return read(new ArchiveBytes(archive.clone()));
    }

    /** Reads at most {@code maxBundleBytes} from {@code in}; a longer stream is rejected as too large. */
    public VerifyResult verify(InputStream in) {
        return read(new StreamCapture(in, limits.maxBundleBytes()));
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
        return named(expectedName, read(new ArchiveBytes(archive)));
    }

    private static VerifyResult named(String expectedName, VerifyResult r) {
        if (r instanceof VerifyResult.Verified v && !v.bundle().name().equals(expectedName)) {
            return rejected(new Rejection.NameMismatch(expectedName, v.bundle().name()));
        }
        return r;
    }

    private VerifyResult read(ArchiveSource source) {
        try {
            return readArchive(source);
        } catch (StreamCapture.LimitExceeded e) {
            return rejected(new Rejection.TooLarge("bundle", limits.maxBundleBytes(), -1));
        } catch (IOException e) {
            return rejected(new Rejection.MalformedArchive(firstLine(e.getMessage())));
        }
    }

    private VerifyResult readArchive(ArchiveSource source) throws IOException {
        StrictTarInput tar = new StrictTarInput(source.stream());

        TarArchiveEntry e = tar.nextEntry();
        Rejection bad = EntryRules.expect(tar, e, EntryRules.MANIFEST);
        if (bad != null) {
            return rejected(bad);
        }
        long manifestCap = Math.min(Limits.MAX_MANIFEST_BYTES, limits.maxBundleBytes());
        if (e.getSize() > manifestCap) {
            return rejected(new Rejection.TooLarge(EntryRules.MANIFEST, manifestCap, e.getSize()));
        }
        byte[] manifestBytes = tar.readFully((int) e.getSize());
        ManifestCodec.ParsedManifest pm = ManifestCodec.read(manifestBytes, limits);
        if (pm.rejection() != null) {
            return rejected(pm.rejection());
        }
        Manifest manifest = pm.manifest();

        e = tar.nextEntry();
        bad = EntryRules.expect(tar, e, EntryRules.SIGNATURES);
        if (bad != null) {
            return rejected(bad);
        }
        long signaturesCap = Math.min(Limits.MAX_SIGNATURES_BYTES, limits.maxBundleBytes());
        if (e.getSize() > signaturesCap) {
            return rejected(new Rejection.TooLarge(EntryRules.SIGNATURES, signaturesCap, e.getSize()));
        }
        byte[] signaturesBytes = tar.readFully((int) e.getSize());
        ManifestCodec.ParsedSignatures ps = ManifestCodec.readSignatures(signaturesBytes);
        if (ps.rejection() != null) {
            return rejected(ps.rejection());
        }
        SignaturePolicy.Outcome signed = signatures.check(ps.signatures(), manifestBytes);
        if (signed.rejection() != null) {
            return rejected(signed.rejection());
        }

        ManifestFiles files = new ManifestFiles(manifest);
        bad = files.read(tar, source);
        if (bad != null) {
            return rejected(bad);
        }
        e = tar.nextEntry();
        if (e != null) {
            return rejected(EntryRules.afterTheLastFile(tar.storedName(e)));
        }
        if (!source.onlyZerosLeft()) {
            return rejected(new Rejection.MalformedArchive("data after the end-of-archive marker"));
        }
        byte[] archive = source.bytes();
        return new VerifyResult.Verified(new VerifiedBundle(manifest, Sha256.hex(manifestBytes), archive,
                manifestBytes, signaturesBytes, files.slicesOf(archive), signed.signers()));
    }

    private static VerifyResult rejected(Rejection r) {
        return new VerifyResult.Rejected(r);
    }

    private static String firstLine(String s) {
        return s == null ? "unreadable" : s.lines().findFirst().orElse(s);
    }
}
