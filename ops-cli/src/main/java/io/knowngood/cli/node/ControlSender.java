package io.knowngood.cli.node;

import io.knowngood.api.RolloutList;
import io.knowngood.cli.ExitCode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * Sends one signed rollout control to the first node that takes it ({@code PUT
 * /v1/rollouts/{name}/{version}/controls}). Like {@link Publisher}: an unreachable node, a refused
 * token, a failing node, or one that does not hold the version moves on to the next; a control the
 * node finds invalid or untrusted (422, 400), or for a version it holds as reverted (409, final
 * everywhere once the mesh has merged), stops at once, since every node checks it the same way.
 */
final class ControlSender {
    static final String CONTENT_TYPE = "application/json";

    private final List<NodeClient> nodes;
    private final PrintWriter err;
    private final String command;

    ControlSender(List<NodeClient> nodes, PrintWriter err, String command) {
        this.nodes = nodes;
        this.err = err;
        this.command = command;
    }

    sealed interface Outcome {
        List<Publisher.Attempt> attempts();

        /** A node took it; {@code rollout} is the version's rollout after the control. */
        record Applied(String node, RolloutList.Rollout rollout, List<Publisher.Attempt> attempts) implements Outcome {
        }

        record Failed(ExitCode exitCode, String message, List<Publisher.Attempt> attempts) implements Outcome {
        }
    }

    Outcome send(String name, long version, byte[] wire) throws InterruptedException {
        String path = "/v1/rollouts/" + name + "/" + version + "/controls";
        List<Publisher.Attempt> attempts = new ArrayList<>();
        boolean notHeld = false;
        boolean authFailed = false;
        boolean nodeFailed = false;
        for (NodeClient node : nodes) {
            String where = node.base().toString();
            NodeClient.Answer a = node.put(path, wire, CONTENT_TYPE);
            if (a instanceof NodeClient.Answer.Unreachable u) {
                attempts.add(note(where, "unreachable", u.why()));
                continue;
            }
            NodeClient.Answer.Reply r = (NodeClient.Answer.Reply) a;
            int s = r.status();
            if (s == 202 || s == 200) {
                RolloutList.Rollout after = r.body(RolloutList.Rollout.class, node.base());
                attempts.add(new Publisher.Attempt(where, "applied", after.state()));
                return new Outcome.Applied(where, after, attempts);
            }
            if (s == 422 || s == 400 || s == 409) {
                attempts.add(new Publisher.Attempt(where, "rejected", r.error()));
                return new Outcome.Failed(ExitCode.INVALID, "control refused by " + where + ": " + r.error(), attempts);
            }
            if (s == 404) {
                notHeld = true;
                attempts.add(note(where, "not_held", name + " version " + version + " is not held there (" + r.error() + ")"));
                continue;
            }
            if (s == 401 || s == 403) {
                authFailed = true;
                attempts.add(note(where, "unauthorized", "HTTP " + s + " " + r.error() + " (check --token-file)"));
                continue;
            }
            nodeFailed = true;
            attempts.add(note(where, "node_error", "HTTP " + s + " " + r.error()));
        }
        ExitCode code = notHeld ? ExitCode.NOT_FOUND : authFailed ? ExitCode.AUTH : nodeFailed ? ExitCode.NODE_ERROR : ExitCode.UNREACHABLE;
        if (nodes.size() == 1) {
            Publisher.Attempt only = attempts.get(0);
            return new Outcome.Failed(code, only.node() + ": " + only.outcome().replace('_', ' ') + ": " + only.detail(), attempts);
        }
        String summary = notHeld ? "no node holds " + name + " version " + version : authFailed ? "no node accepted the token"
                : nodeFailed ? "no node could take the control" : "no node reachable";
        return new Outcome.Failed(code, summary + " (" + nodes.size() + " tried)", attempts);
    }

    /** With several nodes each failure gets its line; with one, the final error line says it all. */
    private Publisher.Attempt note(String where, String outcome, String detail) {
        if (nodes.size() > 1) {
            err.println(command + ": " + where + ": " + outcome.replace('_', ' ') + ": " + detail);
            err.flush();
        }
        return new Publisher.Attempt(where, outcome, detail);
    }
}
