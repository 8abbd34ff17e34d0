package io.knowngood.cli.mesh;

import io.knowngood.cli.HelpOption;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code kgctl mesh}: the mesh CA and node certificates that admit hosts to the mesh (TLS, client auth). */
@Command(name = "mesh", description = "Mesh membership credentials: a CA of your own and one certificate per node.",
        subcommands = {MeshCaCommand.class, MeshCertCommand.class, CommandLine.HelpCommand.class})
public final class MeshCommand {
    @Mixin
    HelpOption help;
}
