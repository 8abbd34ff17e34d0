package io.knowngood.cli.keys;

import io.knowngood.cli.HelpOption;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code kgctl keys}: publisher key management. */
@Command(name = "keys", description = "Publisher keys (Ed25519) and pool identities (age).",
        subcommands = {KeysGenerate.class, CommandLine.HelpCommand.class})
public final class KeysCommand {
    @Mixin
    HelpOption help;
}
