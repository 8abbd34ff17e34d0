package io.knowngood.cli.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.cli.KgctlRunner;
import io.knowngood.cli.bundle.BundleFixture;
import io.knowngood.node.TestNode;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A real node, in process (node's TestNode: the daemon's own endpoints, store and standalone mesh
 * on loopback), trusting a fresh publisher key; a token file; and kgctl arguments pointing at them.
 */
final class OnlineFixture implements AutoCloseable {
    final BundleFixture bundles;
    final Path nodeDir;
    final Path tokenFile;
    final KgctlRunner kgctl = new KgctlRunner();
    TestNode node;

    OnlineFixture(Path dir) throws Exception {
        bundles = new BundleFixture(dir);
        nodeDir = dir.resolve("node");
        node = TestNode.start(nodeDir, bundles.pub);
        tokenFile = Files.writeString(dir.resolve("admin.token"), node.token + "\n");
    }

    /** Stops the node and starts it again on the same data dir and floor file (new ports). */
    void restart() throws Exception {
        node.close();
        node = TestNode.start(nodeDir, bundles.pub);
    }

    String admin() {
        return node.admin("").toString();
    }

    String vm() {
        return node.vm("").toString();
    }

    /** kgctl with --node (admin) and --token-file appended. */
    KgctlRunner.Run admin(String... args) {
        List<String> all = new ArrayList<>(Arrays.asList(args));
        all.addAll(List.of("--node", admin(), "--token-file", tokenFile.toString()));
        return kgctl.run(all.toArray(String[]::new));
    }

    void publish(String name, long version) {
        Path archive = bundles.pack(name, version);
        KgctlRunner.Run r = admin("publish", archive.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
    }

    /** Publishes the node has answered (any outcome), from its own metrics. */
    int puts() {
        return (int) metric("kgnode_publishes_total{");
    }

    /** Long-polls parked on the VM endpoint now, from the node's own gauge. */
    int waiting() {
        return (int) metric("kgnode_long_poll_waiters ");
    }

    private double metric(String prefix) {
        return new String(node.node.metrics().scrape(), StandardCharsets.UTF_8).lines().filter(l -> l.startsWith(prefix))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    /** A loopback port nobody listens on. */
    static String deadUrl() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return "http://127.0.0.1:" + s.getLocalPort();
        }
    }

    @Override
    public void close() {
        node.close();
    }
}
