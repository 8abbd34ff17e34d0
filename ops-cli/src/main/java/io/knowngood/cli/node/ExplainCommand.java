package io.knowngood.cli.node;

import io.knowngood.api.ApiJson;
import io.knowngood.api.Explain;
import io.knowngood.cli.CliFailure;
import io.knowngood.cli.Environment;
import io.knowngood.cli.ExitCode;
import io.knowngood.cli.HelpOption;
import io.knowngood.cli.OutputOption;
import io.knowngood.crypto.bundle.BundleName;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code kgctl explain NAME [--vm IP]}: what a VM at that address gets for NAME from one node now and
 * why, then every dependency with ok, warn, down or n/a ({@code GET /v1/explain/{name}?vm=IP}). Exit 0
 * exactly when the node serves that VM a verified copy; kgctl trusts the node's answer.
 */
@Command(name = "explain",
        description = {"Explain what a VM gets for a bundle from one node now, and why; then check every dependency.",
                "First what a VM at --vm IP (default: a VM in no pool) gets: its pools, the version served and its rollout "
                        + "state, expiry, freshness; or why it gets none (no such bundle, hidden by pools, retired, all "
                        + "versions reverted, withheld below the rollback floor).",
                "Then one line per dependency, ok/warn/down/n-a: each peer, each site, the last publish, the disk store, "
                        + "free disk space, certificate expiry, clock skew against each peer, DNS (not needed).",
                "Exit 0 when the VM gets a verified copy from that node, 1 when it gets none."},
        footerHeading = "%nExamples:%n",
        footer = {"  kgctl explain desktop --vm 192.168.10.7 --node http://10.0.0.5:8781 --token-file ~/.kg/admin.token",
                "  kgctl explain desktop -o json | jq '.dependencies[] | select(.status != \"ok\")'"})
public final class ExplainCommand implements Callable<Integer> {
    private final Environment env;

    @Spec
    CommandSpec spec;

    @Mixin
    HelpOption help;

    @Mixin
    OutputOption output;

    @Mixin
    NodeOptions nodes;

    @Parameters(index = "0", paramLabel = "NAME", description = "The bundle name.")
    String name;

    // "--vm-address" is the longest name so that KGCTL_VM (VM endpoint URLs for other commands) is not its default
    @Option(names = {"--vm", "--vm-address"}, paramLabel = "IP",
            description = "The VM's source address as the node sees it (e.g. 192.168.10.7); its pools follow from it. "
                    + "Default: a VM in no pool.")
    String vm;

    ExplainCommand(Environment env) {
        this.env = env;
    }

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (!BundleName.isValid(name)) {
            throw new ParameterException(spec.commandLine(), "not a bundle name: '" + name + "' (names match " + BundleName.RULE + ")");
        }
        String path = "/v1/explain/" + name + (vm == null ? "" : "?vm=" + URLEncoder.encode(vm.strip(), StandardCharsets.UTF_8));
        FirstAnswer.Answered a = new FirstAnswer(nodes.admins(env), spec.commandLine().getErr(), spec.qualifiedName()).get(path);
        int status = a.reply().status();
        if (status == 400) {
            throw new ParameterException(spec.commandLine(), a.node().base() + " refused the question: " + a.reply().error());
        }
        if (status == 404) {
            throw new CliFailure(ExitCode.NODE_ERROR, a.node().base() + ": GET " + path + ": HTTP 404 " + a.reply().error()
                    + " (a node older than explain?)");
        }
        if (status != 200) {
            throw new CliFailure(ExitCode.NODE_ERROR, a.node().base() + ": GET " + path + ": HTTP " + status + " " + a.reply().error());
        }
        Explain e = a.reply().body(Explain.class, a.node().base());
        PrintWriter w = spec.commandLine().getOut();
        if (output.json()) {
            // the api's own encoding (its time fields as RFC 3339), indented like the other commands' JSON
            output.printJson(w, new com.fasterxml.jackson.databind.ObjectMapper().readTree(ApiJson.encode(e)));
        } else {
            print(w, a.node().base().toString(), e);
        }
        return e.vm().verified() ? ExitCode.OK.code() : ExitCode.INVALID.code();
    }

    static void print(PrintWriter w, String base, Explain e) {
        Explain.Vm v = e.vm();
        String who = (e.vmAddress() == null ? "a VM in no pool" : "VM " + e.vmAddress()) + " (pools: "
                + (e.pools().isEmpty() ? "none" : String.join(", ", e.pools())) + ")";
        w.printf("node %s at %s, %s%n", e.node(), base, e.time().truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
        if (v.verified()) {
            w.printf("%s gets %s version %d (%s): a VERIFIED copy%n", who, e.name(), v.version(), v.state());
        } else {
            w.printf("%s gets NOTHING for %s: %s%n", who, e.name(), v.outcome().replace('_', ' '));
        }
        w.println("  why:       " + v.reason());
        if (v.verified()) {
            w.println("  expires:   " + (v.expires() == null ? "never" : v.expires() + (v.expired() ? " (EXPIRED: still served, publish a fresh version)" : "")));
            w.println("  digest:    " + v.digest() + (v.latest() != null && !v.latest().equals(v.version()) ? " (newest held: " + v.latest() + ")" : ""));
        }
        w.println("  freshness: in touch with the mesh: " + (v.inTouch() ? "yes" : "no") + ", last contact with a peer: " + v.lastContact());
        w.println("dependencies:");
        Table t = new Table("  STATUS", "CHECK", "NAME", "DETAIL");
        for (Explain.Dependency d : e.dependencies()) {
            t.row("  " + (Explain.OK.equals(d.status()) ? "ok" : d.status().toUpperCase(java.util.Locale.ROOT)), d.kind(), d.name(), d.detail());
        }
        t.print(w);
        w.flush();
    }
}
