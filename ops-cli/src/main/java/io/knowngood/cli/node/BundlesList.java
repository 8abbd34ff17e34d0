package io.knowngood.cli.node;

import io.knowngood.cli.Environment;
import io.knowngood.cli.HelpOption;
import io.knowngood.cli.OutputOption;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code kgctl bundles list}: every name the mesh holds, the node's version, and each member's. */
@Command(name = "list",
        description = {"List the bundles the mesh holds and the version on each member.", "Lists every bundle the mesh holds (admin GET /v1/bundles): the node's current version, "
                + "whether it is retired, its rollback floor, and the version each member holds."},
        footerHeading = "%nExamples:%n",
        footer = {"  kgctl bundles list --node http://10.0.0.5:8781 --token-file ~/.kg/admin.token",
                "  kgctl bundles list -o json | jq -r '.bundles[] | \"\\(.name) \\(.version)\"'"})
public final class BundlesList implements Callable<Integer> {
    private final Environment env;

    @Spec
    CommandSpec spec;

    @Mixin
    HelpOption help;

    @Mixin
    OutputOption output;

    @Mixin
    NodeOptions nodes;

    BundlesList(Environment env) {
        this.env = env;
    }

    /** What {@code --output json} prints. */
    public record Listing(String node, List<Bundle> bundles) {
    }

    public record Bundle(String name, Long version, String digest, boolean retired, String created, Long floor,
                         Map<String, Long> members) {
    }

    @Override
    public Integer call() throws IOException, InterruptedException {
        MeshBundles mesh = MeshBundles.fetch(nodes.admins(env), spec.commandLine().getErr(), spec.qualifiedName());
        List<Bundle> bundles = mesh.list().bundles().stream().map(e -> new Bundle(e.name(), e.version(), e.digest(), e.retiredHere(),
                e.created() == null ? null : e.created().toString(), e.floor(), e.members())).toList();
        PrintWriter w = spec.commandLine().getOut();
        if (output.json()) {
            output.printJson(w, new Listing(mesh.node().base().toString(), bundles));
            return 0;
        }
        if (bundles.isEmpty()) {
            w.println("the mesh holds no bundles (as seen by " + mesh.node().base() + ")");
            w.flush();
            return 0;
        }
        Table t = new Table("NAME", "VERSION", "STATE", "CREATED", "DIGEST", "MEMBERS");
        for (Bundle b : bundles) {
            t.row(b.name(), b.version() == null ? "-" : b.version().toString(), b.retired() ? "retired" : b.version() == null ? "not here" : "current",
                    b.created(), b.digest() == null ? "-" : b.digest().substring(0, Math.min(12, b.digest().length())), members(b));
        }
        t.print(w);
        w.flush();
        return 0;
    }

    /** "all 3 at 7", or "n1=7 n2=6" when members differ. */
    private static String members(Bundle b) {
        if (b.members().isEmpty()) {
            return "-";
        }
        long distinct = b.members().values().stream().distinct().count();
        if (distinct == 1) {
            return "all " + b.members().size() + " at " + b.members().values().iterator().next();
        }
        return b.members().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" "));
    }
}
