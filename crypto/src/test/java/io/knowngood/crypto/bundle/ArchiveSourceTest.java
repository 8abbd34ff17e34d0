package io.knowngood.crypto.bundle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.knowngood.crypto.bundle.ArchiveBuilder.Entry;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The two byte sources alone: what they keep, how far they read, and the in-place hashing. */
class ArchiveSourceTest {

    private static final byte[] CONTENT = "some file content\n".getBytes(StandardCharsets.UTF_8);

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new Random(42).nextBytes(b);
        return b;
    }

    private static byte[] readAll(InputStream in) throws IOException {
        byte[] b = new byte[7000]; // not a multiple of anything the capture uses
        while (in.read(b) >= 0) {
            // keep reading
        }
        return b;
    }

    @Test
    void streamCapture_keepsTheExactBytes_acrossGrowingBlocks() throws IOException {
        byte[] data = random(3 * 1024 * 1024 + 17);
        StreamCapture c = new StreamCapture(new ByteArrayInputStream(data), 4L * 1024 * 1024);
        readAll(c);
        assertThat(c.position()).isEqualTo(data.length);
        assertThat(c.bytes()).isEqualTo(data);
    }

    @Test
    void streamCapture_acceptsExactlyTheLimit_andStopsOneBytePastIt() throws IOException {
        byte[] data = random(1000);
        StreamCapture exact = new StreamCapture(new ByteArrayInputStream(data), 1000);
        readAll(exact);
        assertThat(exact.bytes()).isEqualTo(data);

        CountingStream source = new CountingStream(new ByteArrayInputStream(random(100_000)));
        StreamCapture over = new StreamCapture(source, 1000);
        assertThatThrownBy(() -> readAll(over)).isInstanceOf(StreamCapture.LimitExceeded.class);
        assertThat(source.read).isEqualTo(1001);
    }

    @Test
    void streamCapture_onlyZerosLeft_readsToTheEnd_andKeepsThoseBytesToo() throws IOException {
        byte[] zeros = new byte[3000];
        StreamCapture c = new StreamCapture(new ByteArrayInputStream(zeros), 10_000);
        assertThat(c.onlyZerosLeft()).isTrue();
        assertThat(c.bytes()).hasSize(3000);
        zeros[2999] = 1;
        assertThat(new StreamCapture(new ByteArrayInputStream(zeros), 10_000).onlyZerosLeft()).isFalse();
    }

    @Test
    void archiveBytes_hashesEntryDataInPlace_andGivesBackTheSameArray() throws IOException {
        byte[] tar = ArchiveBuilder.write(List.of(Entry.file("one", CONTENT), Entry.file("two", "x")));
        ArchiveBytes source = new ArchiveBytes(tar);
        StrictTarInput in = new StrictTarInput(source.stream());
        in.nextEntry();
        assertThat(source.position()).isEqualTo(512);
        MessageDigest sha = Sha256.newDigest();
        assertThat(source.digestEntryData(in, CONTENT.length, sha, new byte[4])).isTrue();
        assertThat(Sha256.hex(sha)).isEqualTo(Sha256.hex(CONTENT));
        assertThat(in.nextEntry().getName()).isEqualTo("two");
        assertThat(in.nextEntry()).isNull();
        assertThat(source.onlyZerosLeft()).isTrue();
        assertThat(source.bytes()).isSameAs(tar);
    }

    @Test
    void bothSources_sayWhenTheEntryEndsBeforeTheBytesAskedFor() throws IOException {
        byte[] tar = ArchiveBuilder.write(List.of(Entry.file("one", CONTENT), Entry.file("two", "x")));
        for (ArchiveSource source : List.of(new ArchiveBytes(tar), new StreamCapture(new ByteArrayInputStream(tar), 1 << 20))) {
            StrictTarInput in = new StrictTarInput(source.stream());
            in.nextEntry();
            assertThat(source.digestEntryData(in, CONTENT.length + 5, Sha256.newDigest(), new byte[8]))
                    .as(source.getClass().getSimpleName()).isFalse();
        }
    }

    @Test
    void bothSources_failWithAnIOException_whenTheArchiveIsCutInsideEntryData() throws IOException {
        byte[] tar = ArchiveBuilder.write(List.of(Entry.file("one", CONTENT)));
        byte[] cut = Arrays.copyOf(tar, 512 + CONTENT.length / 2);
        for (ArchiveSource source : List.of(new ArchiveBytes(cut), new StreamCapture(new ByteArrayInputStream(cut), 1 << 20))) {
            StrictTarInput in = new StrictTarInput(source.stream());
            in.nextEntry();
            assertThatThrownBy(() -> source.digestEntryData(in, CONTENT.length, Sha256.newDigest(), new byte[8]))
                    .as(source.getClass().getSimpleName()).isInstanceOf(IOException.class);
        }
    }

    @Test
    void archiveBytes_onlyZerosLeft_isFalseForAnyOtherByte() {
        byte[] b = new byte[2048];
        b[2047] = 9;
        assertThat(new ArchiveBytes(b).onlyZerosLeft()).isFalse();
    }

    /** Counts the bytes taken from the wrapped stream. */
    private static final class CountingStream extends InputStream {
        private final InputStream in;
        long read;

        CountingStream(InputStream in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            read += b < 0 ? 0 : 1;
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, len);
            read += Math.max(n, 0);
            return n;
        }
    }
}
