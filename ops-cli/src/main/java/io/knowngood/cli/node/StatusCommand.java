package io.knowngood.cli.node;

import io.knowngood.api.ApiJson;
import io.knowngood.api.ClusterView;
import io.knowngood.api.RolloutList;
import io.knowngood.cli.CliFailure;
import io.knowngood.cli.Environment;
import io.knowngood.cli.ExitCode;
import io.knowngood.cli.HelpOption;
import io.knowngood.cli.OutputOption;
import io.knowngood.crypto.bundle.Sha256;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Optional;
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
        description = {"Show members, roles, partition state and versions as a node sees them.", "Shows the mesh as a node sees it: its state (ALONE, CLUSTERED, PARTITIONED, DUPLICATE_ID, ...), whether it is "
                + "partitioned, when it last heard from a peer, and per member: address, role (self, coordinator), "
                + "how many bundles it holds and a digest of its versions; with sites, each other site online or "
                + "OFFLINE and when it was last heard from.",
                "Members with the same versions digest hold exactly the same bundle versions.",
                "Then the rollouts in progress (GET /v1/rollouts): versions rolling, or reverted in the last hour; "
                        + "a node older than rollouts shows none."},
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
                         String lastContact, String selfVersionsDigest, List<Member> members, List<String> expired,
                         String site, List<Site> sites, ClusterView.RevocationList revocationList, List<String> trustedKeys,
                         List<RolloutView> rollouts) {
        Status withRollouts(List<RolloutView> r) {
            return new Status(node, self, state, coordinator, partitioned, inTouch, lastContact, selfVersionsDigest, members, expired,
                    site, sites, revocationList, trustedKeys, r);
        }
    }

    /** Another site as the node knows it; {@code offlineBackups}: the node's caches whose backup to it is held offline. */
    public record Site(String name, boolean online, String lastContact, List<String> offlineBackups) {
    }

    /** A reverted version stays in the status this long after it was reverted. */
    static final Duration RECENTLY_REVERTED = Duration.ofHours(1);

    /**
     * {@code revocationList}: the number of the mesh revocation list the member has in force (mesh TLS only; 0: none);
     * {@code trustedKeys}: the key ids of the publisher keys it trusts (null: not known to the node).
     */
    public record Member(String id, String address, boolean self, boolean coordinator, boolean silent, int bundles,
                         String versionsDigest, Map<String, Held> versions, Long revocationList, List<String> trustedKeys) {
    }

    public record Held(long version, String manifestDigest) {
    }

    @Override
    public Integer call() throws IOException, InterruptedException {
        FirstAnswer.Answered a = new FirstAnswer(nodes.admins(env), spec.commandLine().getErr(), spec.qualifiedName()).get("/v1/cluster");
        if (a.reply().status() != 200) {
            throw new CliFailure(ExitCode.NODE_ERROR, a.node().base() + ": GET /v1/cluster: HTTP " + a.reply().status() + " " + a.reply().error());
        }
        Status s = parse(a.node().base().toString(), a.reply().body(ClusterView.class, a.node().base()))
                .withRollouts(rolloutsInProgress(a.node()));
        PrintWriter w = spec.commandLine().getOut();
        if (output.json()) {
            output.printJson(w, s);
        } else {
            print(w, s);
        }
        return 0;
    }

    /** The state of a node that left the mesh because another member has its id. */
    static final String DUPLICATE_ID = "DUPLICATE_ID";

    static Status parse(String node, ClusterView c) {
        List<Member> members = new ArrayList<>();
        String selfDigest = null;
        // by id only for a node that does not mark itself: another member may share its id
        boolean marked = c.members().stream().anyMatch(ClusterView.Member::self);
        for (ClusterView.Member m : c.members()) {
            Map<String, Held> versions = new TreeMap<>();
            m.bundles().forEach((name, h) -> versions.put(name, new Held(h.version(), h.manifestDigest())));
            boolean isSelf = marked ? m.self() : m.id().equals(c.self());
            String digest = versionsDigest(versions);
            if (isSelf) {
                selfDigest = digest;
            }
            members.add(new Member(m.id(), m.address(), isSelf, m.id().equals(c.coordinator()), m.silent(), versions.size(), digest,
                    versions, m.revocationList(), m.trustedKeys()));
        }
        List<Site> sites = c.sites().stream().map(x -> new Site(x.name(), x.online(), x.lastContact(), x.offlineBackups())).toList();
        return new Status(node, c.self(), c.state(), c.coordinator(), c.partitioned(), c.inTouch(), c.lastContact(), selfDigest, members,
                c.expired(), c.site(), sites, c.revocationList(), c.trustedKeys(), null);
    }

    /**
     * Versions rolling, or reverted within the last hour, from the same node's {@code GET /v1/rollouts};
     * null when the node has no such route (404: a node older than rollouts), which is not an error.
     * Any other trouble with that route is one stderr line: the cluster view is still worth printing.
     */
    private List<RolloutView> rolloutsInProgress(NodeClient node) throws InterruptedException {
        NodeClient.Answer a = node.get("/v1/rollouts", Optional.empty());
        String problem;
        if (a instanceof NodeClient.Answer.Reply r) {
            if (r.status() == 404) {
                return null;
            }
            if (r.status() == 200 && ApiJson.decode(r.body(), RolloutList.class) instanceof ApiJson.Decoded.Body<RolloutList> b) {
                return inProgress(b.value(), env.clock().instant());
            }
            problem = "HTTP " + r.status() + " " + r.error();
        } else {
            problem = ((NodeClient.Answer.Unreachable) a).why();
        }
        PrintWriter err = spec.commandLine().getErr();
        err.println(spec.qualifiedName() + ": " + node.base() + ": rollouts not shown: GET /v1/rollouts: " + problem);
        err.flush();
        return null;
    }

    static List<RolloutView> inProgress(RolloutList list, Instant now) {
        Instant cutoff = now.minus(RECENTLY_REVERTED);
        return list.rollouts().stream()
                .filter(r -> "rolling".equals(r.state())
                        || "reverted".equals(r.state()) && r.since() != null && r.since().isAfter(cutoff))
                .map(RolloutView::of)
                .sorted(Comparator.comparing(RolloutView::name).thenComparing(Comparator.comparingLong(RolloutView::version).reversed()))
                .toList();
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

    /** The line on the mesh CA's revocation list in force on the node (a node with mesh TLS only). */
    static String revocations(ClusterView.RevocationList r) {
        return revocations(r, List.of());
    }

    /**
     * The same, and how the other members' lists compare, as the node knows them from the mesh: "; the same on every
     * member in view", or "; other lists: n3 (number 1), n4 (none)" (members whose list is not known are left out).
     */
    static String revocations(ClusterView.RevocationList r, List<Member> members) {
        String inForce = r.number() == 0 ? "none" : "number " + r.number() + ", " + r.revoked() + (r.revoked() == 1 ? " certificate" : " certificates")
                + " revoked (written " + r.thisUpdate() + ")";
        List<Member> others = members.stream().filter(m -> !m.self() && m.revocationList() != null).toList();
        List<String> differ = others.stream().filter(m -> m.revocationList() != r.number())
                .map(m -> m.id() + (m.revocationList() == 0 ? " (none)" : " (number " + m.revocationList() + ")")).toList();
        String across = others.isEmpty() ? "" : differ.isEmpty() ? "; the same on every member in view" : "; other lists: " + String.join(", ", differ);
        return r.problem() == null ? "mesh revocation list: " + inForce + across
                : "mesh revocation list: " + inForce + across + "; crl.pem NOT USED: " + r.problem();
    }

    /**
     * The line on the publisher keys the node trusts, and how the other members' compare, as the node knows them from
     * the mesh: "; the same on every member in view", or "; other keys: n3 (3f2a4b5c6d7e8f90), n4 (none)" (members
     * whose keys are not known are left out). Key ids are shortened to their first 16 hex digits.
     */
    static String trustedKeys(List<String> trusted, List<Member> members) {
        List<Member> others = members.stream().filter(m -> !m.self() && m.trustedKeys() != null).toList();
        List<String> differ = others.stream().filter(m -> !m.trustedKeys().equals(trusted)).map(m -> m.id() + " (" + keyList(m.trustedKeys()) + ")")
                .toList();
        String across = others.isEmpty() ? "" : differ.isEmpty() ? "; the same on every member in view" : "; other keys: " + String.join(", ", differ);
        return "publisher keys trusted: " + (trusted.isEmpty() ? "none (every bundle is refused)" : trusted.size() + " (" + keyList(trusted) + ")")
                + across;
    }

    private static String keyList(List<String> keyIds) {
        return keyIds.isEmpty() ? "none" : String.join(", ", keyIds.stream().map(k -> k.length() > 16 ? k.substring(0, 16) : k).toList());
    }

    private static void print(PrintWriter w, Status s) {
        w.printf("node %s at %s: state %s, partitioned: %s, in touch: %s, last contact with peers: %s%n", s.self(), s.node(),
                s.state(), s.partitioned() ? "YES" : "no", s.inTouch() ? "yes" : "no", s.lastContact());
        w.println("coordinator: " + (s.coordinator() == null ? "-" : s.coordinator()) + ", members in view: " + s.members().size());
        if (DUPLICATE_ID.equals(s.state())) {
            w.println("LEFT THE MESH: another host has this node's id and joined first (in another site: started first); this node "
                    + "serves what it holds on its own until restarted with an id of its own (kgctl explain names that host)");
        }
        if (s.revocationList() != null) {
            w.println(revocations(s.revocationList(), s.members()));
        }
        if (s.trustedKeys() != null) {
            w.println(trustedKeys(s.trustedKeys(), s.members()));
        }
        if (!s.expired().isEmpty()) {
            w.println("EXPIRED (still served, the last known good; publish a fresh version): " + String.join(", ", s.expired()));
        }
        Table t = new Table("MEMBER", "ADDRESS", "ROLE", "BUNDLES", "VERSIONS", "");
        for (Member m : s.members()) {
            List<String> role = new ArrayList<>();
            if (m.self()) {
                role.add("self");
            }
            if (m.coordinator()) {
                role.add("coordinator");
            }
            if (role.isEmpty()) {
                role.add("member");
            }
            if (m.silent()) {
                role.add("SILENT");
            }
            String same = m.self() || s.selfVersionsDigest() == null ? "" : m.versionsDigest().equals(s.selfVersionsDigest()) ? "same as self" : "DIFFERS";
            t.row(m.id(), m.address(), String.join(",", role), Integer.toString(m.bundles()),
                    m.versionsDigest(), same);
        }
        t.print(w);
        if (s.site() != null) {
            w.println("site " + s.site() + ", other sites: " + s.sites().size());
            Table st = new Table("SITE", "STATE", "LAST CONTACT", "BACKUPS OFFLINE");
            s.sites().forEach(x -> st.row(x.name(), x.online() ? "online" : "OFFLINE", x.lastContact(),
                    x.offlineBackups().isEmpty() ? "-" : String.join(",", x.offlineBackups())));
            st.print(w);
        }
        if (s.rollouts() != null) {
            if (s.rollouts().isEmpty()) {
                w.println("rollouts in progress: none");
            } else {
                w.println("rollouts in progress (rolling, or reverted in the last hour):");
                Table r = RolloutView.table(true);
                s.rollouts().forEach(v -> v.row(r, true));
                r.print(w);
            }
        }
        w.flush();
    }
}
