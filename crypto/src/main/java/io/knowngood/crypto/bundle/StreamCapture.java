package io.knowngood.crypto.bundle;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * The archive read from a stream: counts what is read, keeps a copy (the exact archive bytes), and
 * stops with {@link LimitExceeded} as soon as the stream holds more than the limit, so a 10 GB
 * stream costs at most the limit plus one read buffer.
 */
final class StreamCapture extends FilterInputStream implements ArchiveSource {
    private static final int FIRST_BLOCK = 16 * 1024;
    private static final int LARGEST_BLOCK = 1024 * 1024;
    private final long limit;
    // blocks of growing size, joined once at the end (a ByteArrayOutputStream copies at every doubling)
    private final List<byte[]> blocks = new ArrayList<>();
    private int usedInLast;
    private long count;

    /** The stream holds more than the limit; the verifier turns it into a rejection. */
    static final class LimitExceeded extends IOException {
        private static final long serialVersionUID = 1L;

        LimitExceeded() {
            super("bundle size limit exceeded");
        }
    }

    StreamCapture(InputStream in, long limit) {
        super(in);
        this.limit = limit;
    }

    @Override
    public InputStream stream() {
        return this;
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

    @Override
    public boolean onlyZerosLeft() throws IOException {
        byte[] b = new byte[8192];
        int n;
        while ((n = read(b)) >= 0) {
            for (int i = 0; i < n; i++) {
                if (b[i] != 0) {
                    return false;
                }
            }
        }
        return true;
    }

    @Override
    public byte[] bytes() {
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
