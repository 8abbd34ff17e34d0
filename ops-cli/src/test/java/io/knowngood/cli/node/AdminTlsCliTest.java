package io.knowngood.cli.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.cli.KgctlRunner;
import io.knowngood.cli.KgctlRunner.Run;
import io.knowngood.crypto.bundle.Ed25519Keys;
import io.knowngood.node.TestNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kgctl against a node whose admin endpoint is HTTPS ({@code --admin-tls-dir}), with credentials made
 * by kgctl's own {@code mesh ca init} and {@code mesh cert issue --ip}: {@code --ca ca.crt} (or
 * {@code KGCTL_CA}) is trusted, without it the handshake fails with a line saying what to give.
 */
class AdminTlsCliTest {

    @TempDir
    Path dir;

    @Test
    void statusOverHttps_withTheMeshCa_andAClearFailureWithoutIt() throws Exception {
        KgctlRunner kgctl = new KgctlRunner();
        Path ca = dir.resolve("ca");
        Path tls = dir.resolve("tls");
        assertThat(kgctl.run("mesh", "ca", "init", "--out", ca.toString()).exitCode()).isZero();
        assertThat(kgctl.run("mesh", "cert", "issue", "--ca", ca.toString(), "--node-id", "test-node", "--ip", "127.0.0.1",
                "--out", tls.toString()).exitCode()).isZero();
        Path pub = dir.resolve("publisher.pub");
        Ed25519Keys.writePublicPem(Ed25519Keys.generate().getPublic(), pub);

        try (TestNode n = TestNode.start(dir, pub, s -> s.adminTlsDir = tls.toString())) {
            Path token = dir.resolve("token");
            Files.writeString(token, n.token + "\n");
            String url = "https://127.0.0.1:" + n.node.adminAddress().getPort();

            Run ok = kgctl.run("status", "--node", url, "--token-file", token.toString(), "--ca", ca.resolve("ca.crt").toString());
            assertThat(ok.exitCode()).as(ok.err()).isZero();
            assertThat(ok.out()).contains("test-node");

            Run env = new KgctlRunner(Map.of("KGCTL_CA", ca.resolve("ca.crt").toString())).run("status", "--node", url,
                    "--token-file", token.toString());
            assertThat(env.exitCode()).as(env.err()).isZero();

            Run untrusted = kgctl.run("status", "--node", url, "--token-file", token.toString());
            assertThat(untrusted.exitCode()).isNotZero();
            assertThat(untrusted.err()).contains("TLS failed").contains("--ca");

            String plainUrl = "http://127.0.0.1:" + n.node.adminAddress().getPort();
            Run plain = kgctl.run("status", "--node", plainUrl, "--token-file", token.toString());
            assertThat(plain.exitCode()).isEqualTo(4);
            assertThat(plain.errLine()).startsWith("kgctl status: " + plainUrl + ": unreachable: the answer was not HTTP (")
                    .endsWith("): the node serves HTTPS on this port (--admin-tls-dir)? use https://127.0.0.1:"
                            + n.node.adminAddress().getPort() + " and --ca with its mesh CA's ca.crt");

            Run missing = kgctl.run("status", "--node", url, "--token-file", token.toString(), "--ca", dir.resolve("nope.crt").toString());
            assertThat(missing.exitCode()).isEqualTo(3);
            assertThat(missing.err()).contains("--ca " + dir.resolve("nope.crt") + ": no such file");
        }
    }

    @Test
    void httpsToANodeServingPlainHttp_saysToUseHttp() throws Exception {
        Path pub = dir.resolve("publisher.pub");
        Ed25519Keys.writePublicPem(Ed25519Keys.generate().getPublic(), pub);
        try (TestNode n = TestNode.start(dir, pub)) {
            Path token = Files.writeString(dir.resolve("token"), n.token + "\n");
            int port = n.node.adminAddress().getPort();
            Run r = new KgctlRunner().run("status", "--node", "https://127.0.0.1:" + port, "--token-file", token.toString());
            assertThat(r.exitCode()).isEqualTo(4);
            assertThat(r.errLine()).startsWith("kgctl status: https://127.0.0.1:" + port + ": unreachable: TLS failed (")
                    .endsWith("): the node answers plain HTTP on this port (it runs without --admin-tls-dir): use http://127.0.0.1:" + port);
        }
    }
}
