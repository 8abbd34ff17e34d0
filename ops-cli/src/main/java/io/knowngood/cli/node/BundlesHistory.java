package io.knowngood.cli.node;

import io.knowngood.api.BundleHistory;
import io.knowngood.cli.CliFailure;
import io.knowngood.cli.Environment;
import io.knowngood.cli.ExitCode;
import io.knowngood.cli.HelpOption;
import io.knowngood.cli.OutputOption;
import io.knowngood.crypto.bundle.BundleName;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code kgctl bundles history NAME}: the versions a node keeps for one name, and its rollback floor. */
@Command(name = "history",
        description = {"List the versions a node keeps for a bundle, and its rollback floor.", "Lists the versions of NAME the node keeps on disk (admin GET /v1/bundles/NAME/history): "
                + "state (current, kept, unverified), size, when stored, manifest digest; and the rollback floor "
                + "(the highest version ever accepted: a publish must be above it)."},
        footerHeading = "%nExamples:%n",
        footer = {"  kgctl bundles history desktop-base --node http://10.0.0.5:8781 --token-file ~/.kg/admin.token"})
public final class BundlesHistory implements Callable<Integer> {
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

    BundlesHistory(Environment env) {
        this.env = env;
    }

    /** What {@code --output json} prints. */
    public record History(String node, String name, Long floor, List<Version> versions) {
    }

    public record Version(long version, String state, String rollout, String digest, Long size, String storedAt) {
    }

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (!BundleName.isValid(name)) {
            throw new ParameterException(spec.commandLine(), "\"" + name + "\" is not a bundle name");
        }
        FirstAnswer.Answered a = new FirstAnswer(nodes.admins(env), spec.commandLine().getErr(), spec.qualifiedName())
                .get("/v1/bundles/" + name + "/history");
        NodeClient.Answer.Reply r = a.reply();
        if (r.status() == 404) {
            throw new CliFailure(ExitCode.NOT_FOUND, a.node().base() + ": " + r.error());
        }
        if (r.status() != 200) {
            throw new CliFailure(ExitCode.NODE_ERROR, a.node().base() + ": GET history: HTTP " + r.status() + " " + r.error());
        }
        BundleHistory h = r.body(BundleHistory.class, a.node().base());
        List<Version> versions = new ArrayList<>();
        for (BundleHistory.Version v : h.versions()) {
            versions.add(new Version(v.version(), v.state(), v.rollout(), v.digest(), v.size(), v.storedAt() == null ? null : v.storedAt().toString()));
        }
        History history = new History(a.node().base().toString(), name, h.floor(), versions);
        PrintWriter w = spec.commandLine().getOut();
        if (output.json()) {
            output.printJson(w, history);
            return 0;
        }
        w.println(name + " on " + a.node().base() + ": rollback floor " + (history.floor() == null ? "-" : history.floor())
                + ", " + versions.size() + " versions kept");
        Table t = new Table("VERSION", "STATE", "ROLLOUT", "SIZE", "STORED", "DIGEST");
        for (Version v : versions) {
            t.row(Long.toString(v.version()), v.state(), v.rollout() == null ? "-" : v.rollout(), v.size() == null ? "-" : v.size().toString(),
                    v.storedAt(), v.digest() == null ? "(not verified yet)" : v.digest());
        }
        t.print(w);
        w.flush();
        return 0;
    }
}
