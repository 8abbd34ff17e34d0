package io.knowngood.node.logs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import org.junit.jupiter.api.Test;

/** The time stamp formatted once per second is the one the full pattern gives, across seconds, days and offset changes. */
class TextLineTest {

    private static String expected(Instant i, ZoneId zone) {
        return DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSX").withZone(zone).format(i);
    }

    private static String formatted(TextLine layout, Instant i) {
        StringBuilder b = new StringBuilder();
        layout.appendTime(i, b);
        return b.toString();
    }

    @Test
    void sameAsThePattern_inUtc_acrossMillisSecondsAndDays() {
        TextLine layout = new TextLine(ZoneId.of("UTC"));
        Instant start = Instant.parse("2026-12-31T23:59:58.000Z");
        for (long ms = 0; ms < 4_000; ms += 7) {
            Instant i = start.plusMillis(ms);
            assertEquals(expected(i, ZoneId.of("UTC")), formatted(layout, i));
        }
        assertEquals("2027-01-01T00:00:00.005Z", formatted(layout, Instant.parse("2027-01-01T00:00:00.005999Z")));
    }

    @Test
    void sameAsThePattern_acrossADaylightSavingChange() {
        ZoneId berlin = ZoneId.of("Europe/Berlin");
        TextLine layout = new TextLine(berlin);
        Instant change = Instant.parse("2026-10-25T01:00:00Z"); // 03:00 CEST becomes 02:00 CET
        for (long ms = -2_500; ms < 2_500; ms += 13) {
            Instant i = change.plusMillis(ms);
            assertEquals(expected(i, berlin), formatted(layout, i));
        }
        assertEquals("2026-10-25T02:59:59.999+02", formatted(layout, change.minusMillis(1)));
        assertEquals("2026-10-25T02:00:00.000+01", formatted(layout, change));
    }

    @Test
    void goingBackInTime_isFormattedAfresh() {
        TextLine layout = new TextLine(ZoneId.of("UTC"));
        assertEquals("2026-12-04T10:00:01.250Z", formatted(layout, Instant.parse("2026-12-04T10:00:01.250Z")));
        assertEquals("2026-12-04T09:59:59.001Z", formatted(layout, Instant.parse("2026-12-04T09:59:59.001Z")));
        assertEquals("2026-12-04T10:00:01.999Z", formatted(layout, Instant.parse("2026-12-04T10:00:01.999Z")));
    }
}
