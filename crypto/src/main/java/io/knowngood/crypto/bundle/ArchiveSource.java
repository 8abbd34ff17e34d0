package io.knowngood.crypto.bundle;

import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;

/**
 * Where the verifier reads an archive from: an array it was handed ({@link ArchiveBytes}) or a
 * stream it reads at most the bundle limit of ({@link StreamCapture}). Either way the tar reader
 * reads {@link #stream()}, the source knows how far it is, and in the end it yields the exact
 * bytes that were verified, with nothing but zeros after the end-of-archive marker.
 */
sealed interface ArchiveSource permits ArchiveBytes, StreamCapture {

    /** What the tar reader reads. */
    InputStream stream();

    /** How far into the archive the tar reader is: where the current entry's data starts. */
    long position();

    /**
     * Feeds the next {@code n} bytes of the current entry's data to {@code sha}, moving {@code tar}
     * past them. False if the archive ends first.
     */
    default boolean digestEntryData(StrictTarInput tar, long n, MessageDigest sha, byte[] chunk) throws IOException {
        long left = n;
        while (left > 0) {
            int r = tar.readSome(chunk, 0, (int) Math.min(chunk.length, left));
            if (r < 0) {
                return false;
            }
            sha.update(chunk, 0, r);
            left -= r;
        }
        return true;
    }

    /** Reads to the end; true if only zero bytes were left. */
    boolean onlyZerosLeft() throws IOException;

    /** Every byte of the archive, once {@link #onlyZerosLeft()} has read to the end. */
    byte[] bytes();
}
