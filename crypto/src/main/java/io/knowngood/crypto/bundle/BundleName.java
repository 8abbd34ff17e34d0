package io.knowngood.crypto.bundle;

import java.util.regex.Pattern;

/**
 * Bundle names as SPEC.md fixes them: {@code ^[a-z0-9][a-z0-9._-]{0,127}$}. The one definition of
 * the rule: every module checks names with {@link #isValid} and quotes {@link #RULE} in its errors.
 */
public final class BundleName {
    /** The rule without anchors, for names embedded in a larger pattern (e.g. file names on disk). */
    public static final String REGEX = "[a-z0-9][a-z0-9._-]{0,127}";

    /** The rule as users read it, for error messages. */
    public static final String RULE = "^" + REGEX + "$";

    private static final Pattern NAME = Pattern.compile(REGEX);

    private BundleName() {
    }

    public static boolean isValid(String name) {
        return name != null && NAME.matcher(name).matches();
    }
}
