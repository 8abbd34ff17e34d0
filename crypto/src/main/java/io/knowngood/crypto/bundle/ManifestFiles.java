package io.knowngood.crypto.bundle;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;

/**
 * The manifest against the files: after the two JSON entries, one {@code files/<path>} entry per
 * manifest file, in manifest order, each with the size and SHA-256 the manifest lists. Data is
 * hashed through one small chunk (or in place) and remembered as a span of the archive, so the
 * verified bundle's files are read-only slices of the archive, never copies. One use per archive.
 */
final class ManifestFiles {
    private static final int CHUNK_BYTES = 16 * 1024;

    /** Where one file's data sits in the archive. */
    private record Span(long start, long size) {}

    private final Manifest manifest;
    private final Map<String, Span> spans = new HashMap<>();

    ManifestFiles(Manifest manifest) {
        this.manifest = manifest;
    }

    /** Reads every file entry from {@code tar}; why they do not match the manifest, or null when they all do. */
    Rejection read(StrictTarInput tar, ArchiveSource source) throws IOException {
        byte[] chunk = new byte[(int) Math.min(CHUNK_BYTES, largestFile())];
        for (FileEntry f : manifest.files()) {
            String expected = EntryRules.FILES + f.path();
            TarArchiveEntry e = tar.nextEntry();
            Rejection bad = EntryRules.expect(tar, e, expected);
            if (bad != null) {
                return bad;
            }
            if (e.getSize() != f.size()) {
                return new Rejection.SizeMismatch(f.path(), f.size(), e.getSize());
            }
            long start = source.position();
            MessageDigest sha = Sha256.newDigest();
            if (!source.digestEntryData(tar, f.size(), sha, chunk)) {
                return new Rejection.MalformedArchive("entry " + expected + " is truncated");
            }
            String found = Sha256.hex(sha);
            if (!found.equals(f.sha256())) {
                return new Rejection.HashMismatch(f.path(), f.sha256(), found);
            }
            spans.put(f.path(), new Span(start, f.size()));
        }
        return null;
    }

    /** Each file read, as a read-only slice of {@code archive} (the bytes the spans were read from). */
    Map<String, ByteBuffer> slicesOf(byte[] archive) {
        Map<String, ByteBuffer> files = new HashMap<>();
        for (Map.Entry<String, Span> e : spans.entrySet()) {
            long start = e.getValue().start();
            long size = e.getValue().size();
            if (start < 0 || start + size > archive.length) {
                throw new IllegalStateException("file data of " + e.getKey() + " is not where the tar reader was");
            }
            files.put(e.getKey(), ByteBuffer.wrap(archive, (int) start, (int) size).slice().asReadOnlyBuffer());
        }
        return files;
    }

    private long largestFile() {
        long max = 0;
        for (FileEntry f : manifest.files()) {
            max = Math.max(max, f.size());
        }
        return max;
    }
}
