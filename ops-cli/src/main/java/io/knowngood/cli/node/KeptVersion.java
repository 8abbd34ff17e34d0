package io.knowngood.cli.node;

import io.knowngood.api.ApiJson;
import io.knowngood.api.BundleHistory;
import io.knowngood.cli.CliFailure;
import io.knowngood.cli.ExitCode;
import java.io.PrintWriter;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * A version of a bundle that a node keeps on disk, fetched from its admin endpoint
 * ({@code GET /v1/bundles/NAME/versions/V}): what {@code kgctl rollback} re-signs and what
 * {@code kgctl bundles diff} compares by number.
 */
final class KeptVersion {
    /** The archive as the node sent it (not yet read or checked). */
    record Fetched(NodeClient node, byte[] archive) {
    }

    private KeptVersion() {
    }

    /**
     * Version V of NAME from the first node that keeps it. Nodes keep different versions (a node that
     * joined later, or prunes sooner), so a 404 sends the request on to the next node. When none keeps
     * it: exit 7 naming the versions the last node that answered keeps ({@code noneKept} is added when
     * it keeps none of that name).
     */
    static Fetched fetch(List<NodeClient> admins, String name, long version, PrintWriter err, String cmd, String noneKept)
            throws InterruptedException {
        FirstAnswer.Answered a = keeping(admins, name, version, err, cmd);
        if (a.reply().status() == 404) {
            throw notKept(a.node(), name, version, history(a.node(), name), noneKept);
        }
        if (a.reply().status() != 200) {
            throw new CliFailure(ExitCode.NODE_ERROR, a.node().base() + ": GET version " + version + " of " + name + ": HTTP "
                    + a.reply().status() + " " + a.reply().error());
        }
        return new Fetched(a.node(), a.reply().body());
    }

    /**
     * The first node that answers for version V with anything but 404. When every node that answered
     * says 404, the last of those answers (the error then names its kept versions).
     */
    private static FirstAnswer.Answered keeping(List<NodeClient> admins, String name, long version, PrintWriter err, String cmd)
            throws InterruptedException {
        String path = "/v1/bundles/" + name + "/versions/" + version;
        FirstAnswer.Answered notFound = null;
        int from = 0;
        while (from < admins.size()) {
            FirstAnswer.Answered a;
            try {
                a = new FirstAnswer(admins.subList(from, admins.size()), err, cmd).get(path);
            } catch (CliFailure e) {
                if (notFound != null) {
                    return notFound; // the rest did not answer: what the last answering node said stands
                }
                throw e;
            }
            if (a.reply().status() != 404) {
                return a;
            }
            notFound = a;
            if (from + 1 < admins.size()) {
                err.println(cmd + ": " + a.node().base() + " does not keep " + name + " version " + version + "; asking the next node");
                err.flush();
            }
            from = admins.indexOf(a.node()) + 1;
        }
        return notFound;
    }

    /** The node's kept versions and floor for the name; empty when it keeps none or cannot say. */
    static Optional<BundleHistory> history(NodeClient node, String name) throws InterruptedException {
        NodeClient.Answer a = node.get("/v1/bundles/" + name + "/history", Optional.empty());
        if (a instanceof NodeClient.Answer.Reply r && r.status() == 200
                && ApiJson.decode(r.body(), BundleHistory.class) instanceof ApiJson.Decoded.Body<BundleHistory> b) {
            return Optional.of(b.value());
        }
        return Optional.empty();
    }

    /** V is not kept: say which versions are, or that none is. */
    private static CliFailure notKept(NodeClient node, String name, long version, Optional<BundleHistory> history, String noneKept) {
        List<Long> kept = history.map(h -> h.versions().stream().map(BundleHistory.Version::version).sorted().toList()).orElse(List.of());
        if (kept.contains(version)) {
            // the history lists V but the archive route answered 404: a node from before that route
            return new CliFailure(ExitCode.NODE_ERROR, node.base() + " keeps " + name + " version " + version
                    + " but serves no kept versions (a node older than this kgctl)");
        }
        if (kept.isEmpty()) {
            return new CliFailure(ExitCode.NOT_FOUND, node.base() + " keeps no version of " + name + noneKept);
        }
        return new CliFailure(ExitCode.NOT_FOUND, node.base() + " does not keep " + name + " version " + version + "; kept versions: "
                + kept.stream().map(String::valueOf).collect(Collectors.joining(", ")));
    }
}
