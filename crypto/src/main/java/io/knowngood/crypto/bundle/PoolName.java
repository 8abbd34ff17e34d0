package io.knowngood.crypto.bundle;

import java.util.regex.Pattern;

/**
 * A pool's name, as a manifest's {@code pools} list and a node's {@code --pool NAME=PREFIX} spell
 * it: the same rule as a bundle name, at most 64 characters.
 */
public final class PoolName {
    /** The pattern without anchors. */
    public static final String REGEX = "[a-z0-9][a-z0-9._-]{0,63}";
    /** The rule as users read it in error messages. */
    public static final String RULE = "^" + REGEX + "$";
    /** At most this many pools in one manifest. */
    public static final int MAX_PER_MANIFEST = 64;

    private static final Pattern NAME = Pattern.compile(REGEX);

    private PoolName() {
    }

    public static boolean isValid(String name) {
        return name != null && NAME.matcher(name).matches();
    }
}
