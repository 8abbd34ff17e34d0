package io.knowngood.cli.node;

import io.knowngood.api.MeshBundleList;
import io.knowngood.cli.CliFailure;
import io.knowngood.cli.ExitCode;
import java.io.PrintWriter;
import java.util.List;

/**
 * What the mesh holds, as the first admin endpoint that answers {@code GET /v1/bundles} reports it:
 * per name the node's current version, its rollback floor, and the version each member holds.
 */
record MeshBundles(NodeClient node, MeshBundleList list) {

    static MeshBundles fetch(List<NodeClient> admins, PrintWriter err, String command) throws InterruptedException {
        FirstAnswer.Answered a = new FirstAnswer(admins, err, command).get("/v1/bundles");
        NodeClient.Answer.Reply r = a.reply();
        if (r.status() != 200) {
            throw new CliFailure(ExitCode.NODE_ERROR, a.node().base() + ": GET /v1/bundles: HTTP " + r.status() + " " + r.error());
        }
        return new MeshBundles(a.node(), r.body(MeshBundleList.class, a.node().base()));
    }
}
