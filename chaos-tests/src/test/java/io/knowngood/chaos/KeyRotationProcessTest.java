package io.knowngood.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.cli.Environment;
import io.knowngood.cli.Kgctl;
import io.knowngood.crypto.bundle.Ed25519Keys;
import io.knowngood.crypto.bundle.KeyId;
import io.knowngood.testkit.Ci;
import io.knowngood.testkit.cluster.ChaosCluster;
import io.knowngood.testkit.process.NodeProcess;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A publisher key rotation as docs/kgnode.md ("Rotating a publisher key") tells an operator to do it,
 * with the real programs: a kgnode process on a TLS mesh, and kgctl (bin/kgctl for the seed that signs
 * with both keys). The node trusts the new key beside the old one (kgctl status says so), {@code kgctl seed --resign} with both keys signs what it holds with
 * both, and the old key is removed. Then the leaked-key case: a version the old key alone signed,
 * published while it was still trusted, leaves the node serving the newest copy the new key signed
 * once the old key is removed (not withholding the name; explain and health say why), and the next
 * seed publishes above it. How members compare their keys is MeshWiringTest's (a real mesh whose
 * members trust different keys) and ReadCommandsTest's (kgctl's line).
 */
class KeyRotationProcessTest {
    static final int IP_BASE = ChaosCluster.ipBaseProperty(221);
    static final int PORT_BASE = 19300;
    static final String NAME = "desktop-base";

    @TempDir
    Path dir;

    @Test
    void theNewKeyTrusted_seedResignWithBoth_theOldKeyRemoved_andALeakedKeysVersionLeavesTheNewestTrustedCopyServed() throws Exception {
        Assumptions.assumeTrue(Ci.available(NodeProcess.jarMissing()), NodeProcess.jarMissing());
        String generated = kgctl("keys", "generate", "--out", dir.toString(), "--name", "publisher-2027");
        Path newKey = dir.resolve("publisher-2027.key");
        Path newPub = dir.resolve("publisher-2027.pub");
        String newId = generated.lines().filter(l -> l.startsWith("key id:")).findFirst().orElseThrow().substring(7).trim();
        try (ChaosCluster c = new ChaosCluster(dir.resolve("mesh"), NodeProcess.jar(), 1, IP_BASE, PORT_BASE)) {
            NodeProcess n1 = c.node(0);
            Path oldKey = dir.resolve("publisher.key");
            Ed25519Keys.writePrivatePem(c.publisher().getPrivate(), oldKey);
            Path oldPub = c.dir().resolve("publisher.pub"); // the file the node's --trust-key names
            String oldId = KeyId.of(c.publisher().getPublic()).hex();
            Path token = Files.writeString(dir.resolve("admin.token"), ChaosCluster.TOKEN + "\n");
            Path src = dir.resolve("bundles");
            Files.createDirectories(src.resolve(NAME));
            Files.writeString(src.resolve(NAME).resolve("app.conf"), "theme=dark\n");
            String node = n1.adminUrl();
            c.startAll();
            assertThat(kgctl("seed", src.toString(), "--key", oldKey.toString(), "--node", node, "--token-file", token.toString()))
                    .contains("published  " + NAME + " version 1: 1 of 1 members hold it");

            // 1. the new key trusted beside the old one
            restart(c, n1, List.of("--trust-key", newPub.toString()));
            String both = (oldId.compareTo(newId) < 0 ? oldId.substring(0, 16) + ", " + newId.substring(0, 16)
                    : newId.substring(0, 16) + ", " + oldId.substring(0, 16));
            assertThat(kgctl("status", "--node", node, "--token-file", token.toString())).contains("\npublisher keys trusted: 2 (" + both + ")\n");

            // 2. what the node holds, signed again with both keys (guest images still know only the old one)
            String resigned = binKgctl("seed", src.toString(), "--key", newKey.toString(), "--key", oldKey.toString(), "--resign", "--node", node,
                    "--token-file", token.toString());
            assertThat(resigned).contains("published  " + NAME + " version 2 (same content, signed again with keys " + newId.substring(0, 16)
                    + "..., " + oldId.substring(0, 16) + "...: version 1 carries no signature by " + newId.substring(0, 16)
                    + "...): 1 of 1 members hold it");

            // the old key leaked: a version only it signed goes out while the node still trusts it
            Path evil = dir.resolve("evil");
            Files.createDirectories(evil);
            Files.writeString(evil.resolve("app.conf"), "theme=attacker\n");
            Path evilTar = dir.resolve("evil.tar");
            kgctl("bundle", "pack", evil.toString(), "--name", NAME, "--version", "3", "--key", oldKey.toString(), "--out", evilTar.toString());
            assertThat(kgctl("publish", evilTar.toString(), "--node", node, "--token-file", token.toString())).contains("1 of 1 members hold it");
            awaitServed(n1, 3, "theme=attacker");

            // 3. the old key removed: the node serves version 2, the newest copy the new key signed, and says why
            Files.copy(newPub, oldPub, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            restart(c, n1, List.of());
            awaitServed(n1, 2, "theme=dark");
            assertThat(kgctl("status", "--node", node, "--token-file", token.toString()))
                    .contains("\npublisher keys trusted: 1 (" + newId.substring(0, 16) + ")\n");
            assertThat(Files.readString(n1.log())).contains(NAME + ": version 3 is on disk but cannot be loaded with this configuration");
            assertThat(kgctl("explain", NAME, "--node", node, "--token-file", token.toString()))
                    .contains(NAME + " held at 2 below its floor 3 (served as last-known-good: version 3 is on disk, but signed only by a "
                            + "publisher key this node no longer trusts, or over its limits)");
            assertThat(n1.adminGet("/v1/health").body()).contains("{\"name\":\"" + NAME + "\",\"held\":2,\"floor\":3,\"serving\":true,"
                    + "\"cause\":\"not_loadable\"}");

            // the next seed publishes above the leaked version
            assertThat(kgctl("seed", src.toString(), "--key", newKey.toString(), "--resign", "--node", node, "--token-file", token.toString()))
                    .contains("published  " + NAME + " version 4: 1 of 1 members hold it");
            awaitServed(n1, 4, "theme=dark");
        }
    }

    private static void restart(ChaosCluster c, NodeProcess n, List<String> extraArgs) throws Exception {
        n.stop();
        n.extraArgs(extraArgs);
        c.start(n);
        ChaosCluster.awaitUp(n);
    }

    /** {@code n} serves version {@code version} of NAME to a VM, an archive holding {@code content}. */
    private static void awaitServed(NodeProcess n, long version, String content) {
        Awaitility.await(n + " serves " + NAME + " version " + version).atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .ignoreExceptions().until(() -> {
                    HttpResponse<byte[]> r = n.get("/v1/bundles/" + NAME);
                    return r.statusCode() == 200 && r.headers().firstValue("X-Knowngood-Version").orElse("").equals(Long.toString(version))
                            && new String(r.body(), StandardCharsets.ISO_8859_1).contains(content);
                });
    }

    /**
     * kgctl run in this JVM (its picocli command line, as ExplainDrillTest runs it): a kgctl process costs 1.5-2 s
     * to start here, and the launcher is bin/kgctl's tests' subject. Exit 0 is asserted; returns stdout and stderr.
     */
    private String kgctl(String... args) {
        StringWriter out = new StringWriter();
        CommandLine cl = Kgctl.commandLine(new Environment(Map.of(), Clock.systemUTC(), Duration.ofSeconds(2), Duration.ofSeconds(30)));
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(out));
        int code = cl.execute(args);
        assertThat(code).as("kgctl %s%n%s", String.join(" ", args), out).isZero();
        return out.toString();
    }

    /** The real bin/kgctl, as an operator runs it. Exit 0 is asserted; returns stdout and stderr. */
    private String binKgctl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Checkout.bin("kgctl").toString()));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile(dir, "kgctl", ".out");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("kgctl finished").isTrue();
        assertThat(p.exitValue()).as("%s%n%s", cmd, Files.readString(out)).isZero();
        return Files.readString(out);
    }
}
