package io.knowngood.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.knowngood.testkit.Ci;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The shell programs users and the package run (the launchers, bin/demo, the package's maintainer
 * scripts, CI's and the benchmarks' entry points) have no shellcheck finding at its default level
 * (warning and error): a quoting or exit-code slip in a launcher is a node that does not start.
 */
class LauncherShellcheckTest {

    private static final List<String> SCRIPTS = List.of("bin/kgnode", "bin/kgctl", "bin/demo", "packaging/src/deb/bin/kgnode",
            "packaging/src/deb/bin/kgctl", "packaging/src/deb/control/postinst", "packaging/src/deb/control/prerm",
            "packaging/src/deb/control/postrm", ".ci/run", "bench/run.sh");

    @Test
    void launchersAndPackageScripts_haveNoWarning() throws Exception {
        String missing = Ci.missingTools("shellcheck");
        assumeTrue(Ci.available(missing), missing);
        List<String> cmd = new ArrayList<>(List.of("shellcheck", "--format=gcc"));
        for (String s : SCRIPTS) {
            Path f = Checkout.root().resolve(s);
            assertThat(f).as(s).isRegularFile();
            cmd.add(f.toString());
        }

        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(out).isEmpty();
        assertThat(p.exitValue()).isZero();
    }
}
