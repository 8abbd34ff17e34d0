package io.knowngood.crypto.bundle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.knowngood.crypto.bundle.ArchiveBuilder.Entry;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.junit.jupiter.api.Test;

/** The tar reader alone: what it refuses that commons-compress would accept, and the names it keeps. */
class StrictTarInputTest {

    private static StrictTarInput reader(byte[] tar) {
        return new StrictTarInput(new ByteArrayInputStream(tar));
    }

    private static byte[] twoFiles() {
        return ArchiveBuilder.write(List.of(Entry.file("one", "first\n"), Entry.file("two", "second\n")));
    }

    @Test
    void readsEntriesAndTheirData_thenNullAtTheEnd() throws IOException {
        StrictTarInput tar = reader(twoFiles());
        assertThat(tar.nextEntry().getName()).isEqualTo("one");
        assertThat(new String(tar.readFully(6), StandardCharsets.UTF_8)).isEqualTo("first\n");
        assertThat(tar.nextEntry().getName()).isEqualTo("two");
        assertThat(tar.nextEntry()).isNull();
    }

    @Test
    void aHeaderWithAWrongChecksum_isRefused() {
        byte[] tar = twoFiles();
        tar[512 + 512 + 10] ^= 1; // a name byte of the second header; its checksum no longer matches
        StrictTarInput in = reader(tar);
        assertThatThrownBy(() -> {
            in.nextEntry();
            in.nextEntry();
        }).isInstanceOf(IOException.class).hasMessage("bad header checksum");
    }

    @Test
    void aSecondEndRecordThatIsNotZeros_isRefused() {
        byte[] tar = twoFiles();
        int end = TarLayout.of(tar).end();
        byte[] longer = Arrays.copyOf(tar, Math.max(tar.length, end + 2048));
        longer[end + 512 + 3] = 'x'; // the record after the first zero record (the rest is the source's to check)
        StrictTarInput in = reader(longer);
        assertThatThrownBy(() -> {
            while (in.nextEntry() != null) {
                // read on
            }
        }).isInstanceOf(IOException.class).hasMessage("data after the end-of-archive marker");
    }

    @Test
    void readingPastAnEntrysData_saysTruncated() throws IOException {
        StrictTarInput tar = reader(twoFiles());
        tar.nextEntry();
        assertThatThrownBy(() -> tar.readFully(7)).isInstanceOf(IOException.class).hasMessage("entry is truncated");
    }

    @Test
    void storedName_isThePaxPathAsWritten_whereCommonsCompressRewritesIt() throws IOException {
        byte[] tar = ArchiveBuilder.write(List.of(Entry.file("x", "data").withPax("path", "/etc/passwd")));
        StrictTarInput in = reader(tar);
        TarArchiveEntry e = in.nextEntry();
        assertThat(e.getName()).isEqualTo("etc/passwd");
        assertThat(in.storedName(e)).isEqualTo("/etc/passwd");
    }

    @Test
    void storedName_isTheEntryNameWhenNothingRewroteIt() throws IOException {
        StrictTarInput in = reader(twoFiles());
        TarArchiveEntry e = in.nextEntry();
        assertThat(in.storedName(e)).isEqualTo("one");
    }
}
