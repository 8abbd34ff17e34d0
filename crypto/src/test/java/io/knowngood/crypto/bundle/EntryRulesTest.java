package io.knowngood.crypto.bundle;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.crypto.bundle.ArchiveBuilder.Entry;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The per-entry rules alone, on single entries read by the strict reader. */
class EntryRulesTest {

    /** Reads the one entry written from {@code entry}, and judges it as the entry {@code expected}. */
    private static Rejection judge(Entry entry, String expected) throws IOException {
        StrictTarInput tar = new StrictTarInput(new ByteArrayInputStream(ArchiveBuilder.write(List.of(entry))));
        TarArchiveEntry e = tar.nextEntry();
        return EntryRules.expect(tar, e, expected);
    }

    @Test
    void theExpectedRegularFile_passes() throws IOException {
        assertThat(judge(Entry.file("files/a.txt", "x"), "files/a.txt")).isNull();
    }

    @ParameterizedTest
    @CsvSource({"1, hard link", "2, symbolic link", "3, character device", "4, block device", "5, directory", "6, FIFO",
            "7, entry of type '7'"})
    void everyOtherEntryType_isForbidden_whateverItsName(char type, String what) throws IOException {
        Entry e = type == '1' || type == '2' ? Entry.link("files/a.txt", (byte) type, "a") : Entry.special("files/a.txt", (byte) type);
        assertThat(judge(e, "files/a.txt")).isInstanceOfSatisfying(Rejection.ForbiddenEntryType.class, r -> {
            assertThat(r.type()).isEqualTo(what);
            assertThat(r.entry()).startsWith("files/a.txt"); // commons-compress adds a / to directories
        });
    }

    @Test
    void anotherAllowedName_isUnexpected_aBadOneIsABadPath() throws IOException {
        assertThat(judge(Entry.file("files/b.txt", "x"), "files/a.txt")).isEqualTo(new Rejection.UnexpectedEntry("files/a.txt", "files/b.txt"));
        assertThat(judge(Entry.file("files/../a.txt", "x"), "files/a.txt")).isEqualTo(new Rejection.BadPath("files/../a.txt", "contains .."));
    }

    @Test
    void namesAreJudgedAsStored_notAsCommonsCompressRewritesThem() throws IOException {
        Rejection r = judge(Entry.file("x", "data").withPax("path", "/" + EntryRules.MANIFEST), EntryRules.MANIFEST);
        assertThat(r).isEqualTo(new Rejection.BadPath("/manifest.json", "absolute"));
    }

    @Test
    void theArchiveEndingEarly_isAMissingEntry() throws IOException {
        assertThat(EntryRules.expect(null, null, EntryRules.SIGNATURES)).isEqualTo(new Rejection.MissingEntry("signatures.json"));
    }

    @Test
    void anythingAfterTheLastFile_isExtra_orABadPath() {
        assertThat(EntryRules.afterTheLastFile("files/extra.txt")).isEqualTo(new Rejection.UnexpectedEntry(null, "files/extra.txt"));
        assertThat(EntryRules.afterTheLastFile("files/a//b")).isEqualTo(new Rejection.BadPath("files/a//b", "empty segment"));
    }

    @Test
    void aRegularFileTypeFlag_isAllowed_inBothItsSpellings() throws IOException {
        assertThat(judge(Entry.special("manifest.json", TarConstants.LF_OLDNORM), EntryRules.MANIFEST)).isNull();
    }
}
