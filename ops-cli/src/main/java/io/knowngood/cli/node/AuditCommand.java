package io.knowngood.cli.node;

import io.knowngood.api.AuditList;
import io.knowngood.cli.CliFailure;
import io.knowngood.cli.Environment;
import io.knowngood.cli.ExitCode;
import io.knowngood.cli.HelpOption;
import io.knowngood.cli.OutputOption;
import io.knowngood.crypto.bundle.BundleName;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code kgctl audit [NAME]}: who published or steered what on a node, and what the node answered. */
@Command(name = "audit",
        description = {"Show a node's audit log: every publish and rollout control it was sent.",
                "Prints the newest entries of the node's audit log (admin GET /v1/audit), oldest first: time, token name, "
                        + "source address, action, bundle, version, the HTTP status and outcome the node answered, and the "
                        + "manifest digest (of the control document for a control). Refused, unauthorized and forbidden "
                        + "attempts are entries too. Each node keeps its own log of what was sent to it (the newest "
                        + AuditList.MAX_LIMIT + " entries are served; <data-dir>/audit.log holds more): ask the node the "
                        + "publisher talks to, or each node in turn. A token with the scope read is enough."},
        footerHeading = "%nExamples:%n",
        footer = {"  kgctl audit --node http://10.0.0.5:8781 --token-file ~/.kg/admin.token",
                "  kgctl audit desktop-base --limit 20 --node http://10.0.0.5:8781 --token-file ~/.kg/admin.token",
                "  kgctl audit -o json --node http://10.0.0.5:8781 --token-file ~/.kg/admin.token | jq '.entries[] | select(.status >= 400)'"})
public final class AuditCommand implements Callable<Integer> {
    private final Environment env;

    @Spec
    CommandSpec spec;

    @Mixin
    HelpOption help;

    @Mixin
    OutputOption output;

    @Mixin
    NodeOptions nodes;

    @Parameters(index = "0", arity = "0..1", paramLabel = "NAME", description = "Only the entries about this bundle.")
    String name;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "" + AuditList.DEFAULT_LIMIT,
            description = "How many of the newest entries (1.." + AuditList.MAX_LIMIT + "). Default: ${DEFAULT-VALUE}.")
    int limit;

    AuditCommand(Environment env) {
        this.env = env;
    }

    /** What {@code --output json} prints: the node asked, the name asked about (absent: any), and its entries. */
    public record Audit(String node, String name, List<AuditList.Entry> entries) {
    }

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (name != null && !BundleName.isValid(name)) {
            throw new ParameterException(spec.commandLine(), "\"" + name + "\" is not a bundle name");
        }
        if (limit < 1 || limit > AuditList.MAX_LIMIT) {
            throw new ParameterException(spec.commandLine(), "--limit must be 1.." + AuditList.MAX_LIMIT + ", got " + limit);
        }
        String path = "/v1/audit?limit=" + limit + (name == null ? "" : "&name=" + name);
        FirstAnswer.Answered a = new FirstAnswer(nodes.admins(env), spec.commandLine().getErr(), spec.qualifiedName()).get(path);
        NodeClient.Answer.Reply r = a.reply();
        if (r.status() != 200) {
            throw new CliFailure(ExitCode.NODE_ERROR, a.node().base() + ": GET /v1/audit: HTTP " + r.status() + " " + r.error());
        }
        Audit audit = new Audit(a.node().base().toString(), name, r.body(AuditList.class, a.node().base()).entries());
        PrintWriter w = spec.commandLine().getOut();
        if (output.json()) {
            output.printJson(w, audit);
            return 0;
        }
        String about = name == null ? "" : " about " + name;
        if (audit.entries().isEmpty()) {
            w.println("audit log of " + audit.node() + ": no entries" + about);
            w.flush();
            return 0;
        }
        w.println("audit log of " + audit.node() + ": the newest " + audit.entries().size() + " entries" + about + ", oldest first");
        Table t = new Table("TIME", "TOKEN", "SOURCE", "ACTION", "NAME", "VERSION", "STATUS", "OUTCOME", "DIGEST");
        for (AuditList.Entry e : audit.entries()) {
            t.row(e.time(), e.token(), e.source(), e.action(), e.name() == null ? "-" : e.name(),
                    e.version() == null ? "-" : e.version().toString(), Integer.toString(e.status()), e.outcome(),
                    e.digest() == null ? "-" : e.digest());
        }
        t.print(w);
        w.flush();
        return 0;
    }
}
