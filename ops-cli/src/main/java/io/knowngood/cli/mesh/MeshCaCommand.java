package io.knowngood.cli.mesh;

import io.knowngood.cli.HelpOption;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code kgctl mesh ca}: the mesh certificate authority. */
@Command(name = "ca", description = "The mesh certificate authority.", subcommands = {MeshCaInit.class, CommandLine.HelpCommand.class})
public final class MeshCaCommand {
    @Mixin
    HelpOption help;
}
