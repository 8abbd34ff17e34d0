package io.knowngood.cli.node;

import io.knowngood.api.ApiJson;
import io.knowngood.api.ErrorCode;
import io.knowngood.api.MeshBundleList;
import io.knowngood.api.Published;
import io.knowngood.cli.ExitCode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Pushes one archive to the first node that accepts it: nodes are tried in order; an unreachable
 * node, a refused token or a failing node moves on to the next; a rejection (invalid bundle, not
 * newer) stops at once, since every node would say the same. Each failed attempt is one stderr line.
 */
final class Publisher {
    private final List<NodeClient> nodes;
    private final PrintWriter err;
    private final String command;

    Publisher(List<NodeClient> nodes, PrintWriter err, String command) {
        this.nodes = nodes;
        this.err = err;
        this.command = command;
    }

    /** One node's answer to one publish. */
    record Attempt(String node, String outcome, String detail) {
    }

    sealed interface Outcome {
        List<Attempt> attempts();

        /** Stored (201), or already held with the same content (409 already_held), which is just as good. */
        record Stored(String node, String name, long version, String digest, int membersHolding, int membersInView,
                      boolean complete, boolean alreadyHeld, List<Attempt> attempts) implements Outcome {
        }

        record Failed(ExitCode exitCode, String message, List<Attempt> attempts) implements Outcome {
        }
    }

    /**
     * @param manifestDigest of the archive: a node that refuses it as "not newer" but already holds
     *     this very bundle has stored it (e.g. an earlier try whose answer was lost), which is success
     */
    Outcome publish(String name, long version, String manifestDigest, byte[] archive) throws InterruptedException {
        List<Attempt> attempts = new ArrayList<>();
        boolean authFailed = false;
        boolean nodeFailed = false;
        for (NodeClient node : nodes) {
            String where = node.base().toString();
            NodeClient.Answer a = node.put("/v1/bundles/" + name, archive);
            if (a instanceof NodeClient.Answer.Unreachable u) {
                attempts.add(note(where, "unreachable", u.why()));
                continue;
            }
            NodeClient.Answer.Reply r = (NodeClient.Answer.Reply) a;
            int s = r.status();
            if (s == 201 || s == 200) {
                Published p = r.body(Published.class, node.base());
                attempts.add(new Attempt(where, "stored", "version " + p.version()));
                return new Outcome.Stored(where, name, p.version(), p.digest(), p.membersHolding(), p.membersInView(),
                        p.complete(), false, attempts);
            }
            if (s == 409 && r.errorIs(ErrorCode.ALREADY_HELD)) {
                attempts.add(new Attempt(where, "already_held", r.error()));
                return new Outcome.Stored(where, name, version, null, 0, 0, false, true, attempts);
            }
            if (s == 409 && holdsSame(node, name, manifestDigest)) {
                attempts.add(new Attempt(where, "already_held", r.error()));
                return new Outcome.Stored(where, name, version, manifestDigest, 0, 0, false, true, attempts);
            }
            if (s == 409 || s == 422 || s == 413 || s == 400) {
                attempts.add(new Attempt(where, "rejected", r.error()));
                return new Outcome.Failed(ExitCode.INVALID, "rejected by " + where + ": " + r.error(), attempts);
            }
            if (s == 401 || s == 403) {
                authFailed = true;
                attempts.add(note(where, "unauthorized", "HTTP " + s + " " + r.error() + " (check --token-file)"));
                continue;
            }
            nodeFailed = true;
            attempts.add(note(where, "node_error", "HTTP " + s + " " + r.error()));
        }
        ExitCode code = authFailed ? ExitCode.AUTH : nodeFailed ? ExitCode.NODE_ERROR : ExitCode.UNREACHABLE;
        if (nodes.size() == 1) {
            Attempt only = attempts.get(0);
            return new Outcome.Failed(code, only.node() + ": " + only.outcome().replace('_', ' ') + ": " + only.detail(), attempts);
        }
        String summary = authFailed ? "no node accepted the token" : nodeFailed ? "no node could store " + name : "no node reachable";
        return new Outcome.Failed(code, summary + " (" + nodes.size() + " tried)", attempts);
    }

    /** Whether the node's current version of {@code name} is exactly this bundle (same manifest digest). */
    private static boolean holdsSame(NodeClient node, String name, String manifestDigest) throws InterruptedException {
        if (manifestDigest == null) {
            return false;
        }
        NodeClient.Answer a = node.get("/v1/bundles", Optional.empty());
        if (!(a instanceof NodeClient.Answer.Reply r) || r.status() != 200
                || !(ApiJson.decode(r.body(), MeshBundleList.class) instanceof ApiJson.Decoded.Body<MeshBundleList> list)) {
            return false;
        }
        return list.value().get(name).map(MeshBundleList.Entry::digest).filter(manifestDigest::equals).isPresent();
    }

    /** With several nodes each failure gets its line; with one, the final error line says it all. */
    private Attempt note(String where, String outcome, String detail) {
        if (nodes.size() > 1) {
            err.println(command + ": " + where + ": " + outcome.replace('_', ' ') + ": " + detail);
            err.flush();
        }
        return new Attempt(where, outcome, detail);
    }
}
