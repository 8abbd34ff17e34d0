package io.knowngood.cli;

import picocli.CommandLine.Option;

/** {@code -h/--help} for subcommands: they do not get {@code --version}, which {@code bundle pack} uses for the bundle's version. */
public final class HelpOption {
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;
}
