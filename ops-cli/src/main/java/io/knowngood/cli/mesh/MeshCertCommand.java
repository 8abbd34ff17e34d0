package io.knowngood.cli.mesh;

import io.knowngood.cli.HelpOption;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code kgctl mesh cert}: node certificates issued by the mesh CA. */
@Command(name = "cert", description = "Node certificates issued by the mesh CA.",
        subcommands = {MeshCertIssue.class, MeshCertRevoke.class, CommandLine.HelpCommand.class})
public final class MeshCertCommand {
    @Mixin
    HelpOption help;
}
