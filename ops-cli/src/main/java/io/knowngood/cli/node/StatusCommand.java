package io.knowngood.cli.node;

import io.knowngood.api.ClusterView;
import io.knowngood.cli.CliFailure;
import io.knowngood.cli.Environment;
import io.knowngood.cli.ExitCode;
import io.knowngood.cli.HelpOption;
import io.knowngood.cli.OutputOption;
import io.knowngood.crypto.bundle.Sha256;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code kgctl status}: the mesh as one node sees it ({@code GET /v1/cluster} on the admin endpoint). */
@Command(name = "status",
        description = {"Show members, roles, partition state and versions as a node sees them.", "Shows the mesh as a node sees it: its state (ALONE, CLUSTERED, PARTITIONED, ...), whether it is "
                + "partitioned, when it last heard from a peer, and per member: address, role (self, coordinator), "
                + "how many bundles it holds and a digest of its versions.",
                "Members with the same versions digest hold exactly the same bundle versions."},
        footerHeading = "%nExamples:%n",
        footer = {"  kgctl status --node http://10.0.0.5:8781 --token-file ~/.kg/admin.token",
                "  kgctl status -o json | jq '.members[] | select(.versionsDigest != .selfVersionsDigest)'"})
public final class StatusCommand implements Callable<Integer> {
    private final Environment env;

    @Spec
    CommandSpec spec;

    @Mixin
    HelpOption help;

    @Mixin
    OutputOption output;

    @Mixin
    NodeOptions nodes;

    StatusCommand(Environment env) {
        this.env = env;
    }

    /** What {@code --output json} prints. */
    public record Status(String node, String self, String state, String coordinator, boolean partitioned, boolean inTouch,
                         String lastContact, String selfVersionsDigest, List<Member> members) {
    }

    public record Member(String id, String address, boolean self, boolean coordinator, int bundles, String versionsDigest,
                         Map<String, Held> versions) {
    }

    public record Held(long version, String manifestDigest) {
    }

    @Override
    public Integer call() throws IOException, InterruptedException {
        FirstAnswer.Answered a = new FirstAnswer(nodes.admins(env), spec.commandLine().getErr(), spec.qualifiedName()).get("/v1/cluster");
        if (a.reply().status() != 200) {
            throw new CliFailure(ExitCode.NODE_ERROR, a.node().base() + ": GET /v1/cluster: HTTP " + a.reply().status() + " " + a.reply().error());
        }
        Status s = parse(a.node().base().toString(), a.reply().body(ClusterView.class, a.node().base()));
        PrintWriter w = spec.commandLine().getOut();
        if (output.json()) {
            output.printJson(w, s);
        } else {
            print(w, s);
        }
        return 0;
    }

    static Status parse(String node, ClusterView c) {
        List<Member> members = new ArrayList<>();
        String selfDigest = null;
        for (ClusterView.Member m : c.members()) {
            Map<String, Held> versions = new TreeMap<>();
            m.bundles().forEach((name, h) -> versions.put(name, new Held(h.version(), h.manifestDigest())));
            boolean isSelf = m.self() || m.id().equals(c.self());
            String digest = versionsDigest(versions);
            if (isSelf) {
                selfDigest = digest;
            }
            members.add(new Member(m.id(), m.address(), isSelf, m.id().equals(c.coordinator()), versions.size(), digest, versions));
        }
        return new Status(node, c.self(), c.state(), c.coordinator(), c.partitioned(), c.inTouch(), c.lastContact(), selfDigest, members);
    }

    /** First 12 hex of SHA-256 over "name NUL version NUL manifestDigest LF", names sorted; "-" if nothing held. */
    static String versionsDigest(Map<String, Held> versions) {
        if (versions.isEmpty()) {
            return "-";
        }
        StringBuilder b = new StringBuilder();
        versions.forEach((n, h) -> b.append(n).append('\0').append(h.version()).append('\0').append(h.manifestDigest()).append('\n'));
        return Sha256.hex(b.toString().getBytes(StandardCharsets.UTF_8)).substring(0, 12);
    }

    private static void print(PrintWriter w, Status s) {
        w.printf("node %s at %s: state %s, partitioned: %s, in touch: %s, last contact with peers: %s%n", s.self(), s.node(),
                s.state(), s.partitioned() ? "YES" : "no", s.inTouch() ? "yes" : "no", s.lastContact());
        w.println("coordinator: " + (s.coordinator() == null ? "-" : s.coordinator()) + ", members in view: " + s.members().size());
        Table t = new Table("MEMBER", "ADDRESS", "ROLE", "BUNDLES", "VERSIONS", "");
        for (Member m : s.members()) {
            List<String> role = new ArrayList<>();
            if (m.self()) {
                role.add("self");
            }
            if (m.coordinator()) {
                role.add("coordinator");
            }
            String same = m.self() || s.selfVersionsDigest() == null ? "" : m.versionsDigest().equals(s.selfVersionsDigest()) ? "same as self" : "DIFFERS";
            t.row(m.id(), m.address(), role.isEmpty() ? "member" : String.join(",", role), Integer.toString(m.bundles()),
                    m.versionsDigest(), same);
        }
        t.print(w);
        w.flush();
    }
}
