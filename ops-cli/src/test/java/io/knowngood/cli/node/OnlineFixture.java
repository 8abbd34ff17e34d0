package io.knowngood.cli.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.cli.KgctlRunner;
import io.knowngood.cli.bundle.BundleFixture;
import io.knowngood.crypto.bundle.Ed25519Keys;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** A stub node trusting a fresh publisher key, a token file, and kgctl arguments pointing at them. */
final class OnlineFixture implements AutoCloseable {
    final BundleFixture bundles;
    final StubNode node;
    final Path tokenFile;
    final KgctlRunner kgctl = new KgctlRunner();

    OnlineFixture(Path dir) throws IOException {
        bundles = new BundleFixture(dir);
        node = new StubNode("s3cret", List.of(Ed25519Keys.readPublicPem(bundles.pub)));
        tokenFile = Files.writeString(dir.resolve("admin.token"), "s3cret\n");
    }

    String admin() {
        return node.adminUrl().toString();
    }

    String vm() {
        return node.vmUrl().toString();
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
