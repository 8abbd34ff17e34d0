package io.knowngood.cli;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * What a test needs from the machine (a tool on the PATH, a built jar). Missing on a developer's
 * machine: the test is skipped with the reason. Missing under {@code CI=true}: the test fails, since
 * CI installs every tool (.ci/run) and a skipped test there would pass without testing anything.
 */
public final class RequiredTools {

    private RequiredTools() {}

    public static boolean underCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    /** Skips (or under CI fails) the test unless {@code present}. */
    public static void require(boolean present, String missing) {
        if (!present && underCi()) {
            fail(missing + " (CI=true: a missing tool fails the build instead of skipping the test)");
        }
        assumeTrue(present, missing + ": skipping");
    }

    public static void requireTools(String... tools) {
        for (String tool : tools) {
            require(onPath(tool), tool + " is not installed");
        }
    }

    /** The kgnode jar Maven resolved ({@code io.knowngood:node:jar:kgnode}, system property {@code kgnode.jar}). */
    public static Path requireKgnodeJar() {
        String property = System.getProperty("kgnode.jar");
        require(property != null && !property.isBlank() && !property.startsWith("${"),
                "system property kgnode.jar is not set (run the tests through Maven, which resolves io.knowngood:node:jar:kgnode)");
        Path jar = Path.of(property);
        require(Files.isRegularFile(jar), "no kgnode jar at " + jar);
        return jar;
    }

    public static boolean onPath(String tool) {
        try {
            Process p = new ProcessBuilder("sh", "-c", "command -v " + tool).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
