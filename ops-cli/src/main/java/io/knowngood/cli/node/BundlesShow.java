package io.knowngood.cli.node;

import io.knowngood.cli.CliFailure;
import io.knowngood.cli.Environment;
import io.knowngood.cli.ExitCode;
import io.knowngood.cli.HelpOption;
import io.knowngood.cli.OutputOption;
import io.knowngood.cli.bundle.BundleInspect;
import io.knowngood.crypto.bundle.BundleName;
import io.knowngood.crypto.bundle.TrustedKeys;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code kgctl bundles show NAME}: the version a node serves, read from its VM endpoint. */
@Command(name = "show",
        description = {"Show the manifest of the version a node serves.", "Fetches the archive of NAME a node serves (VM endpoint GET /v1/bundles/NAME) and prints its manifest "
                + "like 'bundle inspect', plus whether the node is in touch with its peers.",
                "With --trust the signature is checked too. Exit 7 if the node holds no such bundle."},
        footerHeading = "%nExamples:%n",
        footer = {"  kgctl bundles show desktop-base --vm http://10.0.0.5:8780",
                "  kgctl bundles show desktop-base --vm http://10.0.0.5:8780 --trust ~/.kg/publisher.pub -o json"})
public final class BundlesShow implements Callable<Integer> {
    private final Environment env;

    @Spec
    CommandSpec spec;

    @Mixin
    HelpOption help;

    @Mixin
    OutputOption output;

    @Mixin
    NodeOptions nodes;

    @Mixin
    VmOptions vm;

    @Parameters(index = "0", paramLabel = "NAME", description = "Bundle name.")
    String name;

    @Option(names = "--trust", paramLabel = "PUB", description = "Trusted public key (PEM) to check the signature; repeatable.")
    List<Path> trust = new ArrayList<>();

    BundlesShow(Environment env) {
        this.env = env;
    }

    /** What {@code --output json} prints. */
    public record Shown(String node, String name, boolean retired, Long retiredAt, String inTouch, String lastContact,
                        BundleInspect.Inspection bundle) {
    }

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (!BundleName.isValid(name)) {
            throw new ParameterException(spec.commandLine(), "\"" + name + "\" is not a bundle name");
        }
        TrustedKeys keys = trust.isEmpty() ? null : TrustedKeys.fromPemFiles(trust);
        ServedBundle served = ServedBundle.fetch(vm.clients(env, nodes), name, spec.commandLine().getErr(), spec.qualifiedName());
        PrintWriter w = spec.commandLine().getOut();
        if (served instanceof ServedBundle.Absent a) {
            throw new CliFailure(ExitCode.NOT_FOUND, a.node() + ": " + a.detail());
        }
        if (served instanceof ServedBundle.Retired r) {
            if (output.json()) {
                output.printJson(w, new Shown(r.node(), name, true, r.version(), null, null, null));
            } else {
                w.println(name + " is retired: withdrawn at version " + r.version() + " (as served by " + r.node() + ")");
                w.flush();
            }
            return 0;
        }
        ServedBundle.Archive a = (ServedBundle.Archive) served;
        BundleInspect.Inspection view = BundleInspect.inspection(a.contents(), keys, a.bytes());
        if (output.json()) {
            output.printJson(w, new Shown(a.node(), name, false, null, a.inTouch().orElse(null), a.lastContact().orElse(null), view));
        } else {
            w.println("served by: " + a.node() + (a.inTouch().isPresent() ? ", in touch with peers: " + a.inTouch().get() : "")
                    + (a.lastContact().isPresent() ? ", last contact: " + a.lastContact().get() : ""));
            BundleInspect.printText(w, view);
        }
        BundleInspect.failIfBad(view);
        return 0;
    }
}
