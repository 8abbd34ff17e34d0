package io.knowngood.crypto.bundle;

import java.util.Optional;

/**
 * One file of a manifest: its path under {@code files/}, size in bytes, lower-case hex SHA-256, and
 * whether its bytes are encrypted ({@code "age"}: an age file to X25519 recipients; size and hash are
 * of the ciphertext, which is what is archived, replicated, stored and served).
 */
public record FileEntry(String path, long size, String sha256, Optional<String> encrypted) {
    /** The one encryption a manifest may name: an age v1 file. */
    public static final String AGE = "age";

    public FileEntry {
        if (BundlePaths.problem(path) != null) {
            throw new IllegalArgumentException("bad path " + path + ": " + BundlePaths.problem(path));
        }
        if (size < 0) {
            throw new IllegalArgumentException("negative size for " + path);
        }
        if (!Sha256.isHex(sha256)) {
            throw new IllegalArgumentException("sha256 of " + path + " must be 64 lower-case hex characters");
        }
        encrypted = encrypted == null ? Optional.empty() : encrypted;
        if (encrypted.isPresent() && !AGE.equals(encrypted.get())) {
            throw new IllegalArgumentException("unknown encryption " + encrypted.get() + " for " + path);
        }
    }

    /** A file in the clear. */
    public FileEntry(String path, long size, String sha256) {
        this(path, size, sha256, Optional.empty());
    }
}
