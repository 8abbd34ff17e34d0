package io.knowngood.crypto.bundle;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.crypto.bundle.ArchiveBuilder.Entry;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The manifest-against-files check alone: file entries read after the two JSON entries. */
class ManifestFilesTest {
    private static final byte[] A = "alpha\n".getBytes(StandardCharsets.UTF_8);
    private static final byte[] B = "[b]\nx=1\n".getBytes(StandardCharsets.UTF_8);

    private static final Manifest MANIFEST = new Manifest(Manifest.SCHEMA, "cfg", 1, ArchiveBuilder.CREATED, Optional.empty(),
            List.of(new FileEntry("a.txt", A.length, Sha256.hex(A)), new FileEntry("etc/b.conf", B.length, Sha256.hex(B))),
            Map.of(), false);

    private final ManifestFiles files = new ManifestFiles(MANIFEST);
    private ArchiveBytes source;

    private Rejection read(Entry... entries) throws IOException {
        source = new ArchiveBytes(ArchiveBuilder.write(List.of(entries)));
        return files.read(new StrictTarInput(source.stream()), source);
    }

    @Test
    void filesAsListed_pass_andComeBackAsReadOnlySlicesOfTheArchive() throws IOException {
        assertThat(read(Entry.file("files/a.txt", A), Entry.file("files/etc/b.conf", B))).isNull();
        Map<String, ByteBuffer> slices = files.slicesOf(source.bytes());
        assertThat(slices).containsOnlyKeys("a.txt", "etc/b.conf");
        assertThat(slices.get("etc/b.conf")).isEqualTo(ByteBuffer.wrap(B));
        assertThat(slices.get("a.txt").isReadOnly()).isTrue();
    }

    @Test
    void aFileOfAnotherSize_isASizeMismatch() throws IOException {
        assertThat(read(Entry.file("files/a.txt", "alpha!\n"), Entry.file("files/etc/b.conf", B)))
                .isEqualTo(new Rejection.SizeMismatch("a.txt", A.length, A.length + 1));
    }

    @Test
    void aFileOfTheSameSizeButOtherBytes_isAHashMismatch() throws IOException {
        byte[] other = "alphA\n".getBytes(StandardCharsets.UTF_8);
        assertThat(read(Entry.file("files/a.txt", other), Entry.file("files/etc/b.conf", B)))
                .isEqualTo(new Rejection.HashMismatch("a.txt", Sha256.hex(A), Sha256.hex(other)));
    }

    @Test
    void filesOutOfManifestOrder_orMissing_areRefused() throws IOException {
        assertThat(read(Entry.file("files/etc/b.conf", B), Entry.file("files/a.txt", A)))
                .isEqualTo(new Rejection.UnexpectedEntry("files/a.txt", "files/etc/b.conf"));
        assertThat(read(Entry.file("files/a.txt", A))).isEqualTo(new Rejection.MissingEntry("files/etc/b.conf"));
    }
}
