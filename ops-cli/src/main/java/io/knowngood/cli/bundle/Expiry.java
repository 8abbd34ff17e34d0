package io.knowngood.cli.bundle;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The value of {@code bundle pack --expires}: a duration from now ({@code 30d}, {@code 12h},
 * {@code 90m}, {@code 45s}, or ISO-8601 such as {@code PT36H} or {@code P7D}) or an RFC 3339 time
 * ({@code 2026-12-31T00:00:00Z}, {@code 2026-12-31T01:00:00+01:00}). Whole seconds, as the manifest
 * writes them; it must lie after {@code now}.
 */
public final class Expiry {
    private static final Pattern SHORT = Pattern.compile("(\\d{1,9})([dhms])");

    private Expiry() {
    }

    /** The parsed instant, or why the text is not one. */
    public sealed interface Parse {
        record At(Instant expires) implements Parse {
        }

        record Invalid(String reason) implements Parse {
        }
    }

    public static Parse parse(String text, Instant now) {
        String t = text.strip();
        Instant at;
        Matcher m = SHORT.matcher(t);
        try {
            if (m.matches()) {
                long n = Long.parseLong(m.group(1));
                ChronoUnit unit = switch (m.group(2)) {
                    case "d" -> ChronoUnit.DAYS;
                    case "h" -> ChronoUnit.HOURS;
                    case "m" -> ChronoUnit.MINUTES;
                    default -> ChronoUnit.SECONDS;
                };
                at = now.plus(Duration.of(n, unit));
            } else if (t.startsWith("P") || t.startsWith("p")) {
                Duration d = Duration.parse(t);
                if (d.isNegative() || d.isZero()) {
                    return new Parse.Invalid("--expires " + text + " is not a positive duration");
                }
                at = now.plus(d);
            } else if (t.contains("T") || t.contains("t")) {
                at = OffsetDateTime.parse(t, DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant();
            } else {
                return new Parse.Invalid("--expires " + text + " is neither a duration (30d, 12h, 90m, 45s, PT36H) "
                        + "nor an RFC 3339 time (2026-12-31T00:00:00Z)");
            }
        } catch (DateTimeParseException | ArithmeticException e) {
            return new Parse.Invalid("--expires " + text + " is neither a duration (30d, 12h, 90m, 45s, PT36H) "
                    + "nor an RFC 3339 time (2026-12-31T00:00:00Z)");
        }
        at = at.truncatedTo(ChronoUnit.SECONDS);
        if (!at.isAfter(now)) {
            return new Parse.Invalid("--expires " + text + " is not after now (" + now.truncatedTo(ChronoUnit.SECONDS) + ")");
        }
        return new Parse.At(at);
    }
}
