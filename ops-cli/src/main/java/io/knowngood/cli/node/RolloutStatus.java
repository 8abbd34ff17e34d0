package io.knowngood.cli.node;

import io.knowngood.api.ErrorCode;
import io.knowngood.api.RolloutList;
import io.knowngood.cli.CliFailure;
import io.knowngood.cli.Environment;
import io.knowngood.cli.ExitCode;
import io.knowngood.cli.HelpOption;
import io.knowngood.cli.OutputOption;
import io.knowngood.crypto.bundle.BundleName;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code kgctl rollout status NAME}: each version's rollout as the mesh reports it (admin {@code GET /v1/rollouts/{name}}). */
@Command(name = "status",
        description = {"Show the rollout of each version of a bundle: state, wave, reports per host.",
                "Shows, per version of NAME that has a rollout (admin GET /v1/rollouts/NAME): its state (rolling, good, "
                        + "reverted), the wave reached of how many (counted from 1; the last is every host), whether a "
                        + "signed pause holds it, the distinct ok/failed VM reports, since when, why; then per host its "
                        + "first wave, its VMs' ok/failed reports and the version it serves."},
        footerHeading = "%nExamples:%n",
        footer = {"  kgctl rollout status desktop-base --node http://10.0.0.5:8781 --token-file ~/.kg/admin.token",
                "  kgctl rollout status desktop-base --version 8 -o json"})
public final class RolloutStatus implements Callable<Integer> {
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

    @Option(names = "--version", paramLabel = "V", description = "Only this version.")
    Long version;

    RolloutStatus(Environment env) {
        this.env = env;
    }

    /** What {@code --output json} prints. */
    public record Report(String node, String name, List<RolloutView> versions) {
    }

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (!BundleName.isValid(name)) {
            throw new ParameterException(spec.commandLine(), "\"" + name + "\" is not a bundle name");
        }
        if (version != null && version < 1) {
            throw new ParameterException(spec.commandLine(), "--version must be from 1 to 2^63-1, got " + version);
        }
        FirstAnswer.Answered a = new FirstAnswer(nodes.admins(env), spec.commandLine().getErr(), spec.qualifiedName())
                .get("/v1/rollouts/" + name);
        NodeClient.Answer.Reply r = a.reply();
        if (r.status() == 404 && r.error().startsWith(ErrorCode.NO_SUCH_BUNDLE.wire())) {
            throw new CliFailure(ExitCode.NOT_FOUND, a.node().base() + ": " + r.error());
        }
        if (r.status() == 404) {
            throw new CliFailure(ExitCode.NOT_FOUND, a.node().base() + ": no rollout known for " + name + " (" + r.error()
                    + "; a node older than this kgctl answers so too)");
        }
        if (r.status() != 200) {
            throw new CliFailure(ExitCode.NODE_ERROR, a.node().base() + ": GET /v1/rollouts/" + name + ": HTTP " + r.status() + " " + r.error());
        }
        RolloutList list = r.body(RolloutList.class, a.node().base());
        List<RolloutView> versions = list.rollouts().stream().filter(x -> x.name().equals(name))
                .filter(x -> version == null || x.version() == version).map(RolloutView::of)
                .sorted(Comparator.comparingLong(RolloutView::version).reversed()).toList();
        if (version != null && versions.isEmpty()) {
            throw new CliFailure(ExitCode.NOT_FOUND, a.node().base() + ": no rollout known for " + name + " version " + version);
        }
        Report report = new Report(a.node().base().toString(), name, versions);
        PrintWriter w = spec.commandLine().getOut();
        if (output.json()) {
            output.printJson(w, report);
            return 0;
        }
        if (versions.isEmpty()) {
            w.println(name + " on " + report.node() + ": no version with a rollout");
            w.flush();
            return 0;
        }
        w.println(name + " on " + report.node() + " (node " + list.node() + "):");
        Table t = RolloutView.table(false);
        versions.forEach(v -> v.row(t, false));
        t.print(w);
        for (RolloutView v : versions) {
            w.println();
            w.println("version " + v.version() + ": promote at " + v.promoteOk() + " ok and " + v.promoteAfterSeconds()
                    + " s in a wave, revert at " + v.revertFailed() + " failed"
                    + (v.servedHere() == null ? "" : "; this node serves " + v.servedHere())
                    + (Boolean.TRUE.equals(v.expired()) ? "; EXPIRED" : ""));
            if (v.hosts().isEmpty()) {
                w.println("  no host has reported yet");
                continue;
            }
            Table h = new Table("  HOST", "WAVE", "OK", "FAILED", "SERVING");
            for (RolloutView.Host host : v.hosts()) {
                h.row("  " + host.host(), Integer.toString(host.wave()), Integer.toString(host.ok()), Integer.toString(host.failed()),
                        host.serving() == null ? "-" : host.serving().toString());
            }
            h.print(w);
        }
        w.flush();
        return 0;
    }
}
