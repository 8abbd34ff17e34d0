package io.knowngood.crypto.bundle;

/** One file of a manifest: its path under {@code files/}, size in bytes and lower-case hex SHA-256. */
public record FileEntry(String path, long size, String sha256) {
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
    }
}
