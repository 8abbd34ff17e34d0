package io.knowngood.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import picocli.CommandLine;

/** Runs kgctl in-process, as {@code main} would, capturing stdout, stderr and the exit code. */
public final class KgctlRunner {
    public static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-25T10:00:00Z"), ZoneOffset.UTC);

    private final Environment env;

    public KgctlRunner() {
        this(Map.of());
    }

    public KgctlRunner(Map<String, String> variables) {
        this.env = new Environment(variables, CLOCK, Duration.ofMillis(500), Duration.ofSeconds(10));
    }

    /** The outcome of one run. */
    public record Run(int exitCode, String out, String err) {
        public String errLine() {
            return err.strip();
        }
    }

    public Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Kgctl.commandLine(env);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    /** {@link #run} with {@code base} and then {@code more}: one command line tried with several endings. */
    public Run run(String[] base, String... more) {
        String[] all = java.util.Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return run(all);
    }
}
