package io.knowngood.cli.node;

import io.knowngood.cli.CliFailure;
import io.knowngood.cli.ExitCode;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A read from the first node that gives a real answer: unreachable nodes, refused tokens and 5xx
 * are noted on stderr (one line each) and the next node is tried. Any other status is the answer.
 */
final class FirstAnswer {
    private final List<NodeClient> nodes;
    private final PrintWriter err;
    private final String command;
    private String lastProblem = "";

    FirstAnswer(List<NodeClient> nodes, PrintWriter err, String command) {
        this.nodes = nodes;
        this.err = err;
        this.command = command;
    }

    /** The answering node and its reply. */
    record Answered(NodeClient node, NodeClient.Answer.Reply reply) {
    }

    Answered get(String path) throws InterruptedException {
        return get(path, Optional.empty(), null);
    }

    Answered get(String path, Optional<String> ifNoneMatch, Duration timeout) throws InterruptedException {
        boolean auth = false;
        boolean broken = false;
        for (NodeClient node : nodes) {
            NodeClient.Answer a = timeout == null ? node.get(path, ifNoneMatch) : node.get(path, ifNoneMatch, timeout);
            if (a instanceof NodeClient.Answer.Unreachable u) {
                note(node, "unreachable: " + u.why());
                continue;
            }
            NodeClient.Answer.Reply r = (NodeClient.Answer.Reply) a;
            if (r.status() == 401 || r.status() == 403) {
                auth = true;
                note(node, "unauthorized: HTTP " + r.status() + " " + r.error() + " (check --token-file)");
                continue;
            }
            if (r.status() >= 500) {
                broken = true;
                note(node, "node error: HTTP " + r.status() + " " + r.error());
                continue;
            }
            return new Answered(node, r);
        }
        ExitCode code = auth ? ExitCode.AUTH : broken ? ExitCode.NODE_ERROR : ExitCode.UNREACHABLE;
        if (nodes.size() == 1) {
            throw new CliFailure(code, lastProblem);
        }
        String summary = auth ? "no node accepted the token" : broken ? "no node answered " + path : "no node reachable";
        throw new CliFailure(code, summary + " (" + nodes.size() + " tried)");
    }

    /** With several nodes each failure gets its line; with one, the final error line says it all. */
    private void note(NodeClient node, String what) {
        lastProblem = node.base() + ": " + what;
        if (nodes.size() > 1) {
            err.println(command + ": " + lastProblem);
            err.flush();
        }
    }
}
