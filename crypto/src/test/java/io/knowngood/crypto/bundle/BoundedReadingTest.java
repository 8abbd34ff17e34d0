package io.knowngood.crypto.bundle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Test;

/**
 * "Reading never buffers more than the limits allow": 10 GB streams, generated lazily and never
 * allocated, are cut off at the bundle limit (plus at most one read buffer) and answered quickly.
 */
class BoundedReadingTest {
    private static final long TEN_GB = 10L * 1024 * 1024 * 1024;
    /** The verifier may ask for one more read buffer than the limit before it notices. */
    private static final long SLACK = 64 * 1024;
    private static final Duration QUICKLY = Duration.ofSeconds(20);

    private static final KeyPair PUBLISHER = Ed25519Keys.generate();
    private final BadBundles bad = new BadBundles(PUBLISHER, Ed25519Keys.generate());

    private static BundleVerifier verifier(Limits limits) {
        return new BundleVerifier(TrustedKeys.of(List.of(PUBLISHER.getPublic())), limits);
    }

    /** {@code prefix}, then {@code filler} repeated, {@code length} bytes in all; counts what was read. */
    static final class GeneratedStream extends InputStream {
        private final byte[] prefix;
        private final byte[] filler;
        private final long length;
        private long position;

        GeneratedStream(byte[] prefix, byte[] filler, long length) {
            this.prefix = prefix;
            this.filler = filler;
            this.length = length;
        }

        long bytesRead() {
            return position;
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (position >= length) {
                return -1;
            }
            int n = (int) Math.min(len, length - position);
            for (int i = 0; i < n; i++) {
                long p = position + i;
                b[off + i] = p < prefix.length ? prefix[(int) p] : filler[(int) ((p - prefix.length) % filler.length)];
            }
            position += n;
            return n;
        }
    }

    private static VerifyResult verifyQuickly(BundleVerifier v, InputStream in) {
        return assertTimeoutPreemptively(QUICKLY, () -> v.verify(in));
    }

    @Test
    void verify_validBundleFollowedBy10GbOfZeros_isTooLargeAtTheLimit() {
        Limits limits = Limits.defaults();
        byte[] archive = bad.valid().build();
        GeneratedStream in = new GeneratedStream(archive, new byte[] {0}, archive.length + TEN_GB);

        VerifyResult r = verifyQuickly(verifier(limits), in);

        assertThat(r).isEqualTo(new VerifyResult.Rejected(new Rejection.TooLarge("bundle", limits.maxBundleBytes(), -1)));
        assertThat(in.bytesRead()).isGreaterThan(limits.maxBundleBytes()).isLessThanOrEqualTo(limits.maxBundleBytes() + SLACK);
    }

    @Test
    void verify_10GbOfGarbage_readsNoMoreThanAHeader() {
        byte[] garbage = "not a tar archive at all, just bytes ".getBytes(StandardCharsets.US_ASCII);
        GeneratedStream in = new GeneratedStream(new byte[0], garbage, TEN_GB);

        VerifyResult r = verifyQuickly(verifier(Limits.defaults()), in);

        assertThat(r).isInstanceOfSatisfying(VerifyResult.Rejected.class,
                rej -> assertThat(rej.reason()).isInstanceOf(Rejection.MalformedArchive.class));
        assertThat(in.bytesRead()).isLessThanOrEqualTo(SLACK);
    }

    @Test
    void verify_fileEntryDeclaring8Gb_isSizeMismatchWithoutReadingIt() {
        // the tar header of files/a.txt says 8 GiB - 1; the stream really is that long, lazily
        byte[] archive = bad.valid().entries(list -> ArchiveBuilder.replace(list, "files/a.txt",
                ArchiveBuilder.Entry.file("files/a.txt", new byte[1]))).build();
        int header = headerOffsetOf(archive, "files/a.txt");
        byte[] prefix = Arrays.copyOf(archive, header + 512);
        setSize(prefix, header, 077777777777L);
        GeneratedStream in = new GeneratedStream(prefix, new byte[] {'a'}, prefix.length + 077777777777L);

        VerifyResult r = verifyQuickly(verifier(Limits.defaults()), in);

        assertThat(r).isEqualTo(new VerifyResult.Rejected(new Rejection.SizeMismatch("a.txt", 6, 077777777777L)));
        assertThat(in.bytesRead()).isLessThanOrEqualTo(prefix.length + SLACK);
    }

    @Test
    void verify_endlessPaxHeader_isCutOffAtTheLimit() {
        Limits limits = new Limits(Limits.MIB, 4 * Limits.MIB, 10);
        // an extended header entry of 8 GiB - 1 whose one record claims to be almost that long
        byte[] archive = bad.valid().entries(list -> ArchiveBuilder.replace(list, "files/a.txt",
                ArchiveBuilder.Entry.file("files/a.txt", "alpha\n").withPax("comment", "x"))).build();
        byte[] retyped = archive.clone();
        int header = headerOffsetOf(retyped, "PaxHeaders/1");
        byte[] prefix = Arrays.copyOf(retyped, header + 512);
        setSize(prefix, header, 077777777777L);
        byte[] record = "8589934590 comment=".getBytes(StandardCharsets.US_ASCII);
        byte[] withRecord = Arrays.copyOf(prefix, prefix.length + record.length);
        System.arraycopy(record, 0, withRecord, prefix.length, record.length);
        GeneratedStream in = new GeneratedStream(withRecord, new byte[] {'y'}, withRecord.length + TEN_GB);

        VerifyResult r = verifyQuickly(verifier(limits), in);

        assertThat(r).isInstanceOf(VerifyResult.Rejected.class);
        assertThat(in.bytesRead()).isLessThanOrEqualTo(limits.maxBundleBytes() + SLACK);
    }

    @Test
    void verify_manifestDeclaredLargerThanBundleLimit_isTooLargeBeforeBuffering() {
        Limits limits = new Limits(1024, 64 * 1024, 10);
        byte[] archive = bad.valid().build();
        byte[] prefix = Arrays.copyOf(archive, 512);
        long declared = Limits.MAX_MANIFEST_BYTES - 1;
        setSize(prefix, 0, declared);
        GeneratedStream in = new GeneratedStream(prefix, new byte[] {'{'}, prefix.length + TEN_GB);

        VerifyResult r = verifyQuickly(verifier(limits), in);

        assertThat(r).isEqualTo(new VerifyResult.Rejected(new Rejection.TooLarge("manifest.json", 64 * 1024, declared)));
        assertThat(in.bytesRead()).isLessThanOrEqualTo(512 + SLACK);
    }

    /** Offset of the header record of the entry named {@code name}, found by walking the headers. */
    static int headerOffsetOf(byte[] tar, String name) {
        int h = 0;
        while (h + 512 <= tar.length) {
            String n = new String(tar, h, 100, StandardCharsets.UTF_8);
            n = n.substring(0, n.indexOf('\0') < 0 ? 100 : n.indexOf('\0'));
            if (n.equals(name)) {
                return h;
            }
            long size = Long.parseLong(new String(tar, h + 124, 11, StandardCharsets.US_ASCII).trim(), 8);
            h += 512 + (int) ((size + 511) / 512 * 512);
        }
        throw new IllegalArgumentException("no entry " + name);
    }

    /** Byte surgery: writes {@code size} into the header's octal size field and fixes the checksum. */
    static void setSize(byte[] tar, int header, long size) {
        byte[] field = String.format("%011o\0", size).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(field, 0, tar, header + 124, 12);
        long sum = 0;
        for (int i = 0; i < 512; i++) {
            sum += (i >= 148 && i < 156) ? ' ' : tar[header + i] & 0xff;
        }
        System.arraycopy(String.format("%06o\0 ", sum).getBytes(StandardCharsets.US_ASCII), 0, tar, header + 148, 8);
        assertThat(tar[header + 156]).isIn(TarConstants.LF_NORMAL, TarConstants.LF_PAX_EXTENDED_HEADER_LC);
    }
}
