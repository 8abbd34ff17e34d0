package io.knowngood.cli;

/**
 * Ends a command with one line on stderr and an {@link ExitCode}. Commands throw it for outcomes
 * that are the user's or the environment's (a rejected bundle, an unreachable node), never for bugs.
 */
public final class CliFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final ExitCode exitCode;

    public CliFailure(ExitCode exitCode, String message) {
        super(message, null, false, false);
        this.exitCode = exitCode;
    }

    public ExitCode exitCode() {
        return exitCode;
    }
}
