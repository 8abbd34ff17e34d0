package io.knowngood.node.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** If-None-Match is scanned in place (no split): the same answers as splitting on commas and trimming. */
class EtagListTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "\"abc\"|true",
        "W/\"abc\"|true",
        "  \"abc\"  |true",
        "\"x\", \"abc\"|true",
        "\"x\",W/\"abc\",\"y\"|true",
        "*|true",
        "\"x\", *|true",
        "\"abcd\"|false",
        "\"ab\"|false",
        "abc|false",
        "\"x\",,\"y\"|false",
        "W/|false",
        "W/*|true",
        ",|false",
        "\"ABC\"|false",
    })
    void matchesLikeTheSplitForm(String header, boolean expected) {
        assertThat(VmEndpoint.etagListMatches(header, "\"abc\"")).isEqualTo(expected);
        assertThat(VmEndpoint.etagListMatches(header, "\"abc\"")).isEqualTo(splitForm(header, "\"abc\""));
    }

    /** The former implementation, as the reference. */
    private static boolean splitForm(String inm, String quoted) {
        for (String token : inm.split(",")) {
            String t = token.trim();
            if (t.startsWith("W/")) {
                t = t.substring(2);
            }
            if (t.equals("*") || t.equals(quoted)) {
                return true;
            }
        }
        return false;
    }
}
