package io.knowngood.cli.bundle;

import io.knowngood.cli.HelpOption;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code kgctl bundle}: offline work on bundle archives. */
@Command(name = "bundle", description = "Build, verify and inspect signed bundle archives (offline).",
        subcommands = {BundlePack.class, BundleVerify.class, BundleInspect.class, CommandLine.HelpCommand.class})
public final class BundleCommand {
    @Mixin
    HelpOption help;
}
