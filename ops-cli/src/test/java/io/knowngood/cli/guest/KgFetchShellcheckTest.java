package io.knowngood.cli.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.knowngood.testkit.Ci;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** guest/kg-fetch.sh is plain POSIX sh by shellcheck's reading: no finding at any level. */
class KgFetchShellcheckTest {
    private static final Path SCRIPT = Path.of("..", "guest", "kg-fetch.sh").toAbsolutePath().normalize();

    @Test
    void shellcheckAsPosixSh_findsNothing() throws Exception {
        String missing = Ci.missingTools("shellcheck");
        assumeTrue(Ci.available(missing), missing);

        Process p = new ProcessBuilder("shellcheck", "-s", "sh", "-S", "style", SCRIPT.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(out).isEmpty();
        assertThat(p.exitValue()).isZero();
    }
}
