package io.knowngood.cli.node;

import io.knowngood.api.ErrorCode;
import io.knowngood.cli.CliFailure;
import io.knowngood.cli.ExitCode;
import io.knowngood.cli.bundle.ArchiveContents;
import java.io.PrintWriter;
import java.util.List;
import java.util.Optional;

/**
 * The archive a VM endpoint serves for one name, with the node's freshness headers. Retired and
 * unknown names are typed answers, not failures: callers decide what they mean.
 */
sealed interface ServedBundle {
    record Archive(String node, byte[] bytes, ArchiveContents contents, Optional<String> inTouch,
                   Optional<String> lastContact) implements ServedBundle {
    }

    record Retired(String node, long version) implements ServedBundle {
    }

    record Absent(String node, String detail) implements ServedBundle {
    }

    static ServedBundle fetch(List<NodeClient> vms, String name, PrintWriter err, String command) throws InterruptedException {
        FirstAnswer.Answered a = new FirstAnswer(vms, err, command).get("/v1/bundles/" + name);
        NodeClient.Answer.Reply r = a.reply();
        String node = a.node().base().toString();
        VmOptions.requireVmEndpoint(a.node(), r);
        if (r.status() == 404 && r.errorIs(ErrorCode.RETIRED)) {
            return new Retired(node, r.version().orElse(0L));
        }
        if (r.status() == 404) {
            return new Absent(node, r.error());
        }
        if (r.status() != 200) {
            throw new CliFailure(ExitCode.NODE_ERROR, node + ": GET /v1/bundles/" + name + ": HTTP " + r.status() + " " + r.error());
        }
        ArchiveContents.Read read = ArchiveContents.read(r.body());
        if (read instanceof ArchiveContents.Read.Unreadable u) {
            throw new CliFailure(ExitCode.NODE_ERROR, node + " served an unreadable archive for " + name + ": " + u.reason());
        }
        return new Archive(node, r.body(), ((ArchiveContents.Read.Readable) read).contents(), r.inTouch(), r.lastContact());
    }
}
