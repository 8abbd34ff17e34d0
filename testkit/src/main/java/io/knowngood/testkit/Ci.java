package io.knowngood.testkit;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code CI=true} changes for a test whose prerequisite (root, a tool, the built jar) is missing:
 * outside CI it may skip with the reason; under CI it fails, because a CI run that skips quietly
 * proves nothing. Callers pass the reason (null when nothing is missing) and skip when told to.
 */
public final class Ci {
    private Ci() {
    }

    /** True when the environment says this is a CI run ({@code CI=true}, as .ci/run is started). */
    public static boolean strict() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    /**
     * True when nothing is missing ({@code missing == null}). Otherwise throws an
     * {@link AssertionError} naming what is missing under CI, and returns false elsewhere so the
     * caller can skip, e.g. {@code assumeTrue(Ci.available(why), why)}.
     */
    public static boolean available(String missing) {
        return available(missing, strict());
    }

    /** {@link #available(String)} with the CI flag given (for tests, and for callers that decided it themselves). */
    public static boolean available(String missing, boolean strict) {
        if (missing == null) {
            return true;
        }
        if (strict) {
            throw new AssertionError("CI=true and a prerequisite is missing, so this fails instead of skipping: " + missing);
        }
        return false;
    }

    /** Which of {@code tools} are not executable on the PATH, as a reason, or null when all are there. */
    public static String missingTools(String... tools) {
        List<String> missing = new ArrayList<>();
        for (String tool : tools) {
            if (!onPath(tool)) {
                missing.add(tool);
            }
        }
        return missing.isEmpty() ? null : "not installed: " + String.join(", ", missing) + " (.ci/run installs them)";
    }

    private static boolean onPath(String tool) {
        String path = System.getenv().getOrDefault("PATH", "");
        for (String dir : path.split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }
}
