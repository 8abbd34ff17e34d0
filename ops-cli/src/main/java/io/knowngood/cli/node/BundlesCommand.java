package io.knowngood.cli.node;

import io.knowngood.cli.HelpOption;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code kgctl bundles}: what the mesh holds. */
@Command(name = "bundles", description = "What the mesh holds: list, show, history, diff.",
        subcommands = {BundlesList.class, BundlesShow.class, BundlesHistory.class, BundlesDiff.class, CommandLine.HelpCommand.class})
public final class BundlesCommand {
    @Mixin
    HelpOption help;
}
