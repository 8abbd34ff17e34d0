package io.knowngood.api;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/** The {@code lastContact} field and header: an ISO-8601 instant, or {@code never}. */
public final class LastContact {

    public static final String NEVER = "never";

    private LastContact() {}

    public static String format(Optional<Instant> at) {
        return at.map(Instant::toString).orElse(NEVER);
    }

    /** Empty for {@code never} or for anything that is not an instant. */
    public static Optional<Instant> parse(String value) {
        if (value == null || value.equals(NEVER)) {
            return Optional.empty();
        }
        try {
            return Optional.of(Instant.parse(value));
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }
}
