package io.knowngood.crypto.bundle;

import java.util.regex.Pattern;

/** Bundle names as SPEC.md fixes them: {@code ^[a-z0-9][a-z0-9._-]{0,127}$}. */
public final class BundleName {
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,127}");

    private BundleName() {
    }

    public static boolean isValid(String name) {
        return name != null && NAME.matcher(name).matches();
    }
}
