package io.knowngood.testkit;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Prometheus' own tool, {@code promtool} (Debian's {@code prometheus} package), as the tests run it: on a
 * metrics page ({@code check metrics}), on the shipped alerting rules ({@code check rules}, {@code test
 * rules}) and on a Prometheus configuration ({@code check config}). Callers skip or fail on {@link
 * #missing()} through {@link Ci#available(String)}.
 */
public final class Promtool {
    private Promtool() {
    }

    /** What promtool printed (stdout and stderr) and its exit code. */
    public record Result(int exitCode, String output) {}

    /** Why promtool cannot run here, or null when it can. */
    public static String missing() {
        return Ci.missingTools("promtool");
    }

    /** {@code promtool check metrics} on {@code page}: exit 0 and no output when it finds nothing. */
    public static Result checkMetrics(String page) throws IOException, InterruptedException {
        return run(page.getBytes(StandardCharsets.UTF_8), "check", "metrics");
    }

    /** {@code promtool ARGS...}, with nothing on its standard input. */
    public static Result run(String... args) throws IOException, InterruptedException {
        return run(new byte[0], args);
    }

    private static Result run(byte[] input, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add("promtool");
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(input);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("promtool " + String.join(" ", args) + " did not finish within 60 s: " + out);
        }
        return new Result(p.exitValue(), out);
    }
}
