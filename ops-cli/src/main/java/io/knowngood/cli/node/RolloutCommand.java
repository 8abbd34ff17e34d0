package io.knowngood.cli.node;

import io.knowngood.cli.HelpOption;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code kgctl rollout}: watch and steer health-gated rollouts (admin endpoint). */
@Command(name = "rollout", description = "Show and steer health-gated rollouts: status, pause, resume, abort, promote.",
        subcommands = {RolloutStatus.class, RolloutControlCommand.Pause.class, RolloutControlCommand.Resume.class,
                RolloutControlCommand.Abort.class, RolloutControlCommand.Promote.class, CommandLine.HelpCommand.class})
public final class RolloutCommand {
    @Mixin
    HelpOption help;
}
