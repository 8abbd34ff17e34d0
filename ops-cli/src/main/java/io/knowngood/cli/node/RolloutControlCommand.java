package io.knowngood.cli.node;

import io.knowngood.cli.CliFailure;
import io.knowngood.cli.Environment;
import io.knowngood.cli.HelpOption;
import io.knowngood.cli.OutputOption;
import io.knowngood.crypto.bundle.BundleName;
import io.knowngood.crypto.bundle.Ed25519Keys;
import io.knowngood.crypto.bundle.KeyId;
import io.knowngood.crypto.rollout.ControlCodec;
import io.knowngood.crypto.rollout.RolloutControl;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code kgctl rollout pause|resume|abort|promote NAME --version V --key KEY}: signs a rollout control
 * with a publisher key (issued now, from the injected clock) and sends it to the first node that
 * takes it; nodes verify it against their trusted keys and replicate it. One subclass per action.
 */
public abstract class RolloutControlCommand implements Callable<Integer> {
    private final Environment env;

    @Spec
    CommandSpec spec;

    @Mixin
    HelpOption help;

    @Mixin
    OutputOption output;

    @Mixin
    NodeOptions nodes;

    @Parameters(index = "0", paramLabel = "NAME", description = "Bundle name.")
    String name;

    @Option(names = "--version", required = true, paramLabel = "V", description = "The version whose rollout this controls.")
    long version;

    @Option(names = "--key", required = true, paramLabel = "KEY", description = "Publisher private key (PKCS#8 PEM) that signs the control.")
    Path key;

    RolloutControlCommand(Environment env) {
        this.env = env;
    }

    abstract RolloutControl.Action action();

    /** {@code paused}, {@code resumed}, ... */
    abstract String done();

    /** What {@code --output json} prints. */
    public record Controlled(String name, long version, String action, String issued, String keyId, String node,
                             RolloutView rollout, List<Publisher.Attempt> attempts) {
    }

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (!BundleName.isValid(name)) {
            throw new ParameterException(spec.commandLine(), "\"" + name + "\" is not a bundle name");
        }
        if (version < 1) {
            throw new ParameterException(spec.commandLine(), "--version must be from 1 to 2^63-1, got " + version);
        }
        PrivateKey privateKey = Ed25519Keys.readPrivatePem(key);
        List<NodeClient> admins = nodes.admins(env);
        RolloutControl control = new RolloutControl(name, version, action(), env.clock().instant().truncatedTo(ChronoUnit.SECONDS));
        byte[] wire = ControlCodec.sign(control, privateKey);
        String keyId = KeyId.of(Ed25519Keys.publicKeyOf(privateKey)).hex();

        ControlSender.Outcome o = new ControlSender(admins, spec.commandLine().getErr(), spec.qualifiedName()).send(name, version, wire);
        if (o instanceof ControlSender.Outcome.Failed f) {
            throw new CliFailure(f.exitCode(), f.message());
        }
        ControlSender.Outcome.Applied applied = (ControlSender.Outcome.Applied) o;
        RolloutView after = RolloutView.of(applied.rollout());
        PrintWriter w = spec.commandLine().getOut();
        if (output.json()) {
            output.printJson(w, new Controlled(name, version, action().wire(), control.issued().toString(), keyId, applied.node(),
                    after, applied.attempts()));
        } else {
            w.println(done() + " " + name + " version " + version + " via " + applied.node() + ": now " + after.line());
            w.flush();
        }
        return 0;
    }

    static final String EXIT_NOTE = "Exit 0 when a node took the control; 1 when it refused it (invalid, a key it does not trust, or a pause, "
            + "resume or promote for a version already reverted, which is final); "
            + "7 when no node holds that version; 4, 5, 6 as for every node command.";

    @Command(name = "pause", description = {"Hold a version in the wave it has reached.",
            "Signs a pause for NAME version V: nodes stop promoting it to further waves (reports are still counted, and "
                    + "F failed reports still revert it). Undone by resume; between the two, the one issued last wins.", EXIT_NOTE},
            footerHeading = "%nExamples:%n",
            footer = {"  kgctl rollout pause desktop-base --version 8 --key ~/.kg/publisher.key --node http://10.0.0.5:8781 --token-file ~/.kg/admin.token"})
    static final class Pause extends RolloutControlCommand {
        Pause(Environment env) {
            super(env);
        }

        @Override
        RolloutControl.Action action() {
            return RolloutControl.Action.PAUSE;
        }

        @Override
        String done() {
            return "paused";
        }
    }

    @Command(name = "resume", description = {"Let a paused version move on through its waves.",
            "Signs a resume for NAME version V, undoing an earlier pause.", EXIT_NOTE},
            footerHeading = "%nExamples:%n",
            footer = {"  kgctl rollout resume desktop-base --version 8 --key ~/.kg/publisher.key"})
    static final class Resume extends RolloutControlCommand {
        Resume(Environment env) {
            super(env);
        }

        @Override
        RolloutControl.Action action() {
            return RolloutControl.Action.RESUME;
        }

        @Override
        String done() {
            return "resumed";
        }
    }

    @Command(name = "abort", description = {"Revert a version everywhere (final).",
            "Signs an abort for NAME version V: it becomes reverted on every node, which serve the previous good "
                    + "version instead. Final: publish a new version (or kgctl rollback) to move on.", EXIT_NOTE},
            footerHeading = "%nExamples:%n",
            footer = {"  kgctl rollout abort desktop-base --version 8 --key ~/.kg/publisher.key"})
    static final class Abort extends RolloutControlCommand {
        Abort(Environment env) {
            super(env);
        }

        @Override
        RolloutControl.Action action() {
            return RolloutControl.Action.ABORT;
        }

        @Override
        String done() {
            return "aborted";
        }
    }

    @Command(name = "promote", description = {"Make a version good on every host now (final).",
            "Signs a promote for NAME version V: it skips its remaining waves and is good everywhere.", EXIT_NOTE},
            footerHeading = "%nExamples:%n",
            footer = {"  kgctl rollout promote desktop-base --version 8 --key ~/.kg/publisher.key"})
    static final class Promote extends RolloutControlCommand {
        Promote(Environment env) {
            super(env);
        }

        @Override
        RolloutControl.Action action() {
            return RolloutControl.Action.PROMOTE;
        }

        @Override
        String done() {
            return "promoted";
        }
    }
}
