package io.knowngood.cli.node;

import io.knowngood.api.MeshBundleList;
import io.knowngood.cli.CliFailure;
import io.knowngood.cli.Environment;
import io.knowngood.cli.ExitCode;
import io.knowngood.cli.HelpOption;
import io.knowngood.cli.OutputOption;
import io.knowngood.cli.bundle.ArchiveContents;
import io.knowngood.crypto.bundle.BundleName;
import io.knowngood.crypto.bundle.BundlePacker;
import io.knowngood.crypto.bundle.Ed25519Keys;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.PrivateKey;
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
 * {@code kgctl retire NAME}: withdraws a bundle by publishing a signed tombstone at version current+1.
 * A tombstone replicates and survives restarts like any version; a later publish (higher version) revives the name.
 */
@Command(name = "retire",
        description = {"Withdraw a bundle: publish a signed tombstone at current+1.", "Withdraws NAME from the mesh: publishes a signed, empty version marked retired at current+1. "
                + "Nodes then answer 404 \"retired\" for NAME; the tombstone replicates like any version, so hosts that "
                + "were down learn of it. Publishing a higher version later brings NAME back."},
        footerHeading = "%nExamples:%n",
        footer = {"  kgctl retire old-printers --key ~/.kg/publisher.key --node http://10.0.0.5:8781 --token-file ~/.kg/admin.token"})
public final class RetireCommand implements Callable<Integer> {
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

    @Option(names = "--key", required = true, paramLabel = "KEY", description = "Publisher private key (PKCS#8 PEM).")
    Path key;

    RetireCommand(Environment env) {
        this.env = env;
    }

    /** What {@code --output json} prints. */
    public record Retired(String name, long version, boolean alreadyRetired, String node, int membersHolding, int membersInView,
                          boolean complete, List<Publisher.Attempt> attempts) {
    }


    /** The pools of the version the mesh holds (from the admin endpoint's exact manifest), none when it has none. */
    private List<String> heldPools(List<NodeClient> admins, PrintWriter err) throws InterruptedException {
        FirstAnswer.Answered a = new FirstAnswer(admins, err, spec.qualifiedName()).get("/v1/bundles/" + name + "/manifest.json");
        NodeClient.Answer.Reply r = a.reply();
        if (r.status() != 200) {
            throw new CliFailure(ExitCode.NODE_ERROR, a.node().base() + ": GET manifest of " + name + ": HTTP " + r.status() + " " + r.error()
                    + " (retire needs the pools of the version it withdraws)");
        }
        try {
            com.fasterxml.jackson.databind.JsonNode pools = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body()).path("pools");
            List<String> out = new java.util.ArrayList<>();
            pools.forEach(p -> out.add(p.asText()));
            return out;
        } catch (IOException e) {
            throw new CliFailure(ExitCode.NODE_ERROR, a.node().base() + ": the manifest of " + name + " is not JSON: " + e.getMessage());
        }
    }

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (!BundleName.isValid(name)) {
            throw new ParameterException(spec.commandLine(), "\"" + name + "\" is not a bundle name");
        }
        PrivateKey privateKey = Ed25519Keys.readPrivatePem(key);
        List<NodeClient> admins = nodes.admins(env);
        PrintWriter err = spec.commandLine().getErr();
        MeshBundles mesh = MeshBundles.fetch(admins, err, spec.qualifiedName());
        MeshBundleList.Entry entry = mesh.list().get(name).orElseThrow(() -> new CliFailure(ExitCode.NOT_FOUND,
                "the mesh holds no bundle named " + name + " (as seen by " + mesh.node().base() + "); nothing to retire"));
        PrintWriter w = spec.commandLine().getOut();
        if (entry.retiredHere()) {
            long at = entry.heldHere() ? entry.version() : entry.highest();
            if (output.json()) {
                output.printJson(w, new Retired(name, at, true, mesh.node().base().toString(), 0, 0, true, List.of()));
            } else {
                w.println(name + " is already retired (version " + at + "); nothing to do");
                w.flush();
            }
            return 0;
        }
        long next = entry.highest() + 1;
        // the tombstone keeps the pools of the version it withdraws: a VM outside them must not learn the name from it
        List<String> pools = heldPools(admins, err);
        byte[] tombstone = BundlePacker.packRetired(name, next, pools, privateKey, env.clock());
        Publisher.Outcome o = new Publisher(admins, err, spec.qualifiedName()).publish(name, next, ArchiveContents.manifestDigestOf(tombstone), tombstone);
        if (o instanceof Publisher.Outcome.Failed f) {
            throw new CliFailure(f.exitCode(), f.message());
        }
        Publisher.Outcome.Stored s = (Publisher.Outcome.Stored) o;
        if (output.json()) {
            output.printJson(w, new Retired(name, s.version(), false, s.node(), s.membersHolding(), s.membersInView(), s.complete(), s.attempts()));
        } else {
            w.println("retired " + name + " at version " + s.version() + " via " + s.node() + ": " + s.membersHolding() + " of "
                    + s.membersInView() + " members hold the tombstone" + (s.complete() ? "" : " (replication still in progress)"));
            w.flush();
        }
        return 0;
    }
}
