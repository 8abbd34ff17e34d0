package io.knowngood.cli.node;

import io.knowngood.cli.CliFailure;
import io.knowngood.cli.Environment;
import io.knowngood.cli.ExitCode;
import io.knowngood.cli.HelpOption;
import io.knowngood.cli.LocalFile;
import io.knowngood.cli.OutputOption;
import io.knowngood.cli.bundle.ArchiveContents;
import io.knowngood.crypto.bundle.Limits;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code kgctl publish}: pushes a signed archive to the first node that takes it. */
@Command(name = "publish",
        description = {"Publish a signed bundle to the first node that accepts it.", "Pushes FILE (a signed bundle archive) to the admin endpoint of the first --node that accepts it "
                + "and reports the version stored and how many mesh members hold it.",
                "Nodes are tried in order: an unreachable node, a refused token or a failing node moves on to the next; "
                        + "a rejection (invalid bundle, version not newer) stops at once.",
                "Publishing the very bundle a node already holds succeeds (\"already held\"), so retries are safe."},
        footerHeading = "%nExamples:%n",
        footer = {"  kgctl publish desktop-base-7.tar --node http://10.0.0.5:8781 --node http://10.0.0.6:8781 --token-file ~/.kg/admin.token",
                "  KGCTL_NODE=http://10.0.0.5:8781 KGCTL_TOKEN_FILE=~/.kg/admin.token kgctl publish b.tar -o json"})
public final class PublishCommand implements Callable<Integer> {
    private final Environment env;

    @Spec
    CommandSpec spec;

    @Mixin
    HelpOption help;

    @Mixin
    OutputOption output;

    @Mixin
    NodeOptions nodes;

    @Parameters(index = "0", paramLabel = "FILE", description = "Signed bundle archive (from 'kgctl bundle pack').")
    Path file;

    PublishCommand(Environment env) {
        this.env = env;
    }

    /** What {@code --output json} prints. */
    public record Published(String name, long version, String node, String digest, int membersHolding, int membersInView,
                            boolean complete, boolean alreadyHeld, List<Publisher.Attempt> attempts) {
        static Published of(Publisher.Outcome.Stored s) {
            return new Published(s.name(), s.version(), s.node(), s.digest(), s.membersHolding(), s.membersInView(),
                    s.complete(), s.alreadyHeld(), s.attempts());
        }
    }

    @Override
    public Integer call() throws IOException, InterruptedException {
        List<NodeClient> admins = nodes.admins(env);
        if (Files.size(file) > Limits.defaults().maxBundleBytes()) {
            throw new CliFailure(ExitCode.INVALID, file + " is larger than a bundle may be (" + Limits.defaults().maxBundleBytes() + " bytes)");
        }
        byte[] archive = LocalFile.bytes(file);
        ArchiveContents.Read read = ArchiveContents.read(archive);
        if (read instanceof ArchiveContents.Read.Unreadable u) {
            throw new CliFailure(ExitCode.INVALID, file + ": " + u.reason());
        }
        ArchiveContents c = ((ArchiveContents.Read.Readable) read).contents();

        PrintWriter err = spec.commandLine().getErr();
        Publisher.Outcome outcome = new Publisher(admins, err, spec.qualifiedName()).publish(c.name(), c.version(), c.manifestDigest(), archive);
        if (outcome instanceof Publisher.Outcome.Failed f) {
            throw new CliFailure(f.exitCode(), f.message());
        }
        Publisher.Outcome.Stored s = (Publisher.Outcome.Stored) outcome;
        PrintWriter w = spec.commandLine().getOut();
        if (output.json()) {
            output.printJson(w, Published.of(s));
        } else {
            w.println(describe(s));
            w.flush();
        }
        return 0;
    }

    static String describe(Publisher.Outcome.Stored s) {
        if (s.alreadyHeld()) {
            return s.name() + " version " + s.version() + " is already held by " + s.node() + " (same bundle); nothing to do";
        }
        return "published " + s.name() + " version " + s.version() + " via " + s.node() + ": " + s.membersHolding() + " of "
                + s.membersInView() + " members hold it" + (s.complete() ? "" : " (replication still in progress)");
    }
}
