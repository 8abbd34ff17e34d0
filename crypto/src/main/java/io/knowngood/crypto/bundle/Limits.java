package io.knowngood.crypto.bundle;

/**
 * Size limits a verifier enforces while reading, so a hostile or broken archive can never make it
 * buffer more than this. {@code maxBundleBytes} bounds the whole archive as read (tar headers
 * included); {@code maxFileBytes} each file; {@code maxFiles} the manifest's file list.
 */
public record Limits(long maxFileBytes, long maxBundleBytes, int maxFiles) {
    public static final long MIB = 1024L * 1024L;
    /** manifest.json and signatures.json are small by nature; these caps are not configurable. */
    static final int MAX_MANIFEST_BYTES = 8 * 1024 * 1024;
    static final int MAX_SIGNATURES_BYTES = 64 * 1024;
    static final int MAX_SIGNATURES = 16;

    public Limits {
        if (maxFileBytes < 0 || maxBundleBytes <= 0 || maxFiles < 0) {
            throw new IllegalArgumentException("limits must be positive: " + maxFileBytes + "/" + maxBundleBytes + "/" + maxFiles);
        }
        if (maxBundleBytes > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("maxBundleBytes must fit in one byte array: " + maxBundleBytes);
        }
    }

    /** 16 MiB a file, 64 MiB a bundle, 10,000 files (SPEC.md). */
    public static Limits defaults() {
        return new Limits(16 * MIB, 64 * MIB, 10_000);
    }
}
