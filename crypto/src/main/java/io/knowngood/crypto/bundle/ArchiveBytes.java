package io.knowngood.crypto.bundle;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;

/**
 * The archive given as an array the verifier may keep (already a private copy, or handed over).
 * Entry data is hashed in place and skipped without copying, so verifying costs one pass over
 * the bytes and no second buffer.
 */
final class ArchiveBytes extends ByteArrayInputStream implements ArchiveSource {
    private boolean skipping;

    ArchiveBytes(byte[] archive) {
        super(archive);
    }

    @Override
    public InputStream stream() {
        return this;
    }

    @Override
    public long position() {
        return pos;
    }

    @Override
    public boolean digestEntryData(StrictTarInput tar, long n, MessageDigest sha, byte[] chunk) throws IOException {
        long start = pos;
        if (start + n > buf.length) {
            return ArchiveSource.super.digestEntryData(tar, n, sha, chunk);
        }
        // the bytes are all there: hash them in place and move the tar reader past them
        sha.update(buf, (int) start, (int) n);
        return skipWithoutCopying(tar, n, chunk) == n;
    }

    /**
     * Moves {@code tar} past {@code n} bytes of entry data without copying them: while skipping,
     * reads only move the position. (tar.skip() would read them into a new 8 KiB array per 8 KiB.)
     */
    private long skipWithoutCopying(StrictTarInput tar, long n, byte[] unused) throws IOException {
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

    @Override
    public boolean onlyZerosLeft() {
        for (int i = pos; i < count; i++) {
            if (buf[i] != 0) {
                return false;
            }
        }
        pos = count;
        return true;
    }

    @Override
    public byte[] bytes() {
        return buf;
    }
}
