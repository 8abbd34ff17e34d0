package io.knowngood.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.testkit.process.FileTrees;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The real browser the status page is checked in: headless Chromium, one fresh profile per run. */
final class HeadlessChromium {
    private HeadlessChromium() {
    }

    /**
     * Runs {@code chromium --headless=new} with {@code args} (e.g. {@code --dump-dom URL}), giving the
     * page's scripts 10 s of virtual time; returns what it printed on stdout. Its output goes through a
     * file under {@code scratch}.
     */
    static String run(Path scratch, String... args) throws IOException, InterruptedException {
        Path profile = Files.createTempDirectory("kg-chromium");
        Files.createDirectories(scratch);
        Path out = scratch.resolve("chromium-" + System.nanoTime() + ".out");
        List<String> cmd = new ArrayList<>(List.of("chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
                "--no-first-run", "--user-data-dir=" + profile, "--virtual-time-budget=10000"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            assertThat(p.waitFor(90, TimeUnit.SECONDS)).as("chromium finished within 90 s").isTrue();
            assertThat(p.exitValue()).as("chromium's exit status").isZero();
            return Files.readString(out);
        } finally {
            p.destroyForcibly();
            Files.deleteIfExists(out);
            FileTrees.delete(profile);
        }
    }
}
