package io.knowngood.crypto.bundle;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A bundle that passed verification: its parsed manifest plus the exact bytes that were verified.
 * Only {@link BundleVerifier} creates one, so holding a {@code VerifiedBundle} means the signature
 * and every file hash were checked (rollback is checked separately, by {@link RollbackFloor},
 * because it depends on the holder's history). Byte accessors return read-only views or copies;
 * the bundle itself never changes.
 */
public final class VerifiedBundle {
    private final Manifest manifest;
    private final String manifestDigest;
    private final byte[] archive;
    private final byte[] manifestBytes;
    private final byte[] signaturesBytes;
    private final Map<String, ByteBuffer> files; // read-only slices of archive
    private final List<KeyId> signers;

    VerifiedBundle(Manifest manifest, String manifestDigest, byte[] archive, byte[] manifestBytes,
                   byte[] signaturesBytes, Map<String, ByteBuffer> files, List<KeyId> signers) {
        this.manifest = manifest;
        this.manifestDigest = manifestDigest;
        this.archive = archive;
        this.manifestBytes = manifestBytes;
        this.signaturesBytes = signaturesBytes;
        this.files = Map.copyOf(files);
        this.signers = List.copyOf(signers);
    }

    public String name() {
        return manifest.name();
    }

    public long version() {
        return manifest.version();
    }

    public boolean retired() {
        return manifest.retired();
    }

    public Manifest manifest() {
        return manifest;
    }

    /** Lower-case hex SHA-256 of manifest.json: the bundle's identity, and its HTTP ETag. */
    public String manifestDigest() {
        return manifestDigest;
    }

    /** The exact archive bytes that were verified, as a read-only view (no copy). */
    public ByteBuffer archive() {
        return ByteBuffer.wrap(archive).asReadOnlyBuffer();
    }

    /** A copy of the archive bytes, for APIs that need an array. */
    public byte[] archiveBytes() {
        return archive.clone();
    }

    /**
     * The verified archive's own array, not a copy, for handing to holders that never write to it
     * (the replicated cache, a message being sent), so that a held bundle sits in memory once.
     * Writing to it would change what was verified: never do.
     */
    public byte[] sharedArchive() {
        return archive;
    }

    public int archiveSize() {
        return archive.length;
    }

    public byte[] manifestBytes() {
        return manifestBytes.clone();
    }

    public byte[] signaturesBytes() {
        return signaturesBytes.clone();
    }

    /** The verified content of one file, as a read-only view, or empty if the bundle has no such file. */
    public Optional<ByteBuffer> fileBytes(String path) {
        ByteBuffer content = files.get(path);
        return content == null ? Optional.empty() : Optional.of(content.asReadOnlyBuffer());
    }

    /** The trusted keys whose signatures verified. */
    public List<KeyId> signerKeyIds() {
        return signers;
    }

    /** Same archive bytes: two verified bundles are the same bundle. */
    @Override
    public boolean equals(Object o) {
        return o instanceof VerifiedBundle other && manifestDigest.equals(other.manifestDigest)
                && Arrays.equals(archive, other.archive);
    }

    @Override
    public int hashCode() {
        return manifestDigest.hashCode();
    }

    @Override
    public String toString() {
        return name() + "@" + version() + " (" + manifestDigest.substring(0, 12) + ")";
    }
}
