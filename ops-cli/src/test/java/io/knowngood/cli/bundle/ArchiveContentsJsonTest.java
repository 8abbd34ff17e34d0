package io.knowngood.cli.bundle;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;

/** What 'kgctl bundle inspect' says of an archive whose JSON is broken: the same one line a node says, with the position. */
class ArchiveContentsJsonTest {

    @Test
    void aTruncatedManifest_isUnreadable_withThePositionAndNoParserNote() throws Exception {
        ArchiveContents.Read r = ArchiveContents.read(tarOf("manifest.json", "{\"name\": \"x\""));

        assertThat(r).isInstanceOfSatisfying(ArchiveContents.Read.Unreadable.class, u -> assertThat(u.reason())
                .startsWith("manifest.json is not valid JSON: Unexpected end-of-input").contains("[line: 1, column: ")
                .doesNotContain("Source").doesNotContain("\n"));
    }

    private static byte[] tarOf(String name, String content) throws Exception {
        byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
            TarArchiveEntry e = new TarArchiveEntry(name);
            e.setSize(bytes.length);
            tar.putArchiveEntry(e);
            tar.write(bytes);
            tar.closeArchiveEntry();
        }
        return out.toByteArray();
    }
}
