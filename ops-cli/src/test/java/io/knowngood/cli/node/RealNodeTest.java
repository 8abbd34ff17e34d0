package io.knowngood.cli.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.knowngood.cli.KgctlRunner;
import io.knowngood.cli.KgctlRunner.Run;
import io.knowngood.cli.bundle.BundleFixture;
import io.knowngood.testkit.Ci;
import io.knowngood.testkit.process.NodeProcess;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kgctl against a real kgnode process (testkit's {@link NodeProcess}): the daemon's jar as Maven
 * resolved it ({@code io.knowngood:node:jar:kgnode}, passed as system property {@code kgnode.jar}).
 * Skipped without it outside Maven; failed without it under CI=true.
 */
class RealNodeTest {
    @TempDir
    static Path dir;

    private static final String TOKEN = "real-node-token-0123456789";

    private static NodeProcess node;
    private static String admin;
    private static String vm;
    private static Path token;
    private static BundleFixture bundles;
    private static KgctlRunner kgctl;

    @BeforeAll
    static void startNode() throws Exception {
        assumeTrue(Ci.available(NodeProcess.jarMissing()), NodeProcess.jarMissing());
        bundles = new BundleFixture(dir);
        node = NodeProcess.builder("real1", dir).adminToken(TOKEN).clusterPort(NodeProcess.freePort())
                .args("--trust-key", bundles.pub.toString(), "--mesh-timings", "local-testing").build();
        token = node.adminTokenFile();
        admin = node.adminUrl();
        vm = node.vmUrl();
        node.start();
        await().atMost(NodeProcess.START_DEADLINE).pollInterval(Duration.ofMillis(200)).until(() -> node.serving());
        kgctl = new KgctlRunner(Map.of("KGCTL_NODE", admin, "KGCTL_VM", vm, "KGCTL_TOKEN_FILE", token.toString()));
    }

    @AfterAll
    static void stopNode() throws Exception {
        if (node != null) {
            node.stop();
        }
    }

    @Test
    void seedPublishStatusWatchRetire_againstARealNode() throws Exception {
        Path root = dir.resolve("root");
        Files.createDirectories(root.resolve("desktop-base"));
        Files.writeString(root.resolve("desktop-base/app.conf"), "a=1\n");
        Files.createDirectories(root.resolve("printers"));
        Files.writeString(root.resolve("printers/list.txt"), "hp-4th-floor\n");
        // the SPEC's cron line, exactly: admin URL and token file, no VM endpoint anywhere
        String[] seed = {"seed", root.toString(), "--key", bundles.key.toString(), "--node", admin, "--token-file", token.toString()};
        KgctlRunner cron = new KgctlRunner();

        Run first = cron.run(seed);
        Run second = cron.run(seed);
        Files.writeString(root.resolve("printers/list.txt"), "hp-4th-floor\nhp-5th-floor\n");
        Run edited = cron.run(seed);
        assertThat(first.exitCode()).as(first.err()).isZero();
        assertThat(first.out()).contains("published  desktop-base version 1: 1 of 1 members hold it", "published 2, unchanged 0");
        assertThat(second.exitCode()).as(second.err()).isZero();
        assertThat(second.out()).contains("nothing to publish: 2 bundles unchanged");
        assertThat(edited.exitCode()).as(edited.err()).isZero();
        assertThat(edited.out()).contains("unchanged  desktop-base (version 1)", "published  printers version 2",
                "published 1, unchanged 1, failed 0");

        // the node serves from disk before its mesh has started (serve first, join later): wait for ALONE
        Run[] status = new Run[1];
        await("node reports ALONE").atMost(Duration.ofSeconds(60))
                .until(() -> (status[0] = kgctl.run("status")).out().contains("state ALONE"));
        assertThat(status[0].exitCode()).as(status[0].err()).isZero();
        assertThat(status[0].out()).contains("node real1 at " + admin + ": state ALONE", "self,coordinator  2");

        Run history = kgctl.run("bundles", "history", "desktop-base");
        assertThat(history.out()).contains("rollback floor 1", "current");

        Path v2 = bundles.pack("desktop-base", 2);
        CompletableFuture<Run> watching = CompletableFuture.supplyAsync(() -> kgctl.run("watch", "desktop-base", "--count", "1", "--wait", "20"));
        await().atMost(Duration.ofSeconds(10)).until(() -> watchingStarted(watching));
        Run publish = kgctl.run("publish", v2.toString());
        Run again = kgctl.run("publish", v2.toString());
        Run watched = watching.get(30, TimeUnit.SECONDS);
        assertThat(publish.out()).contains("published desktop-base version 2");
        assertThat(again.exitCode()).as(again.err()).isZero();
        assertThat(again.out()).contains("already held");
        assertThat(watched.out()).contains("current: version 1", "changed: version 2");

        Run older = kgctl.run("publish", bundles.pack("desktop-base", 1).toString());
        assertThat(older.exitCode()).isEqualTo(1);
        assertThat(older.errLine()).contains("rollback");

        Path target = dir.resolve("vm/desktop-base");
        ProcessResult fetched = kgFetch(target);
        assertThat(fetched.exitCode()).as(fetched.output()).isZero();
        assertThat(fetched.output()).contains("installed desktop-base version 2");
        assertThat(Files.readString(target.resolve("readme.txt"))).isEqualTo("hello");

        Run retire = kgctl.run("retire", "desktop-base", "--key", bundles.key.toString());
        assertThat(retire.out()).startsWith("retired desktop-base at version 3");
        assertThat(kgctl.run("bundles", "show", "desktop-base").out()).contains("is retired: withdrawn at version 3");
        assertThat(kgctl.run("bundles", "list").out()).contains("retired");
        ProcessResult afterRetire = kgFetch(target);
        assertThat(afterRetire.exitCode()).as(afterRetire.output()).isEqualTo(7);
        assertThat(Files.readString(target.resolve("readme.txt"))).isEqualTo("hello");

        Run revived = cron.run(seed); // the tree still holds desktop-base: seeding brings it back above the tombstone
        assertThat(revived.exitCode()).as(revived.err()).isZero();
        assertThat(revived.out()).contains("published  desktop-base version 4", "unchanged  printers (version 2)");
    }

    private record ProcessResult(int exitCode, String output) {
    }

    /** guest/kg-fetch.sh (skipped without sh, curl, tar, openssl, awk, sed; failed without them under CI=true). */
    private static ProcessResult kgFetch(Path target) throws IOException, InterruptedException {
        String missing = Ci.missingTools("sh", "curl", "tar", "openssl", "awk", "sed");
        assumeTrue(Ci.available(missing), missing);
        Path script = Path.of("..", "guest", "kg-fetch.sh").toAbsolutePath().normalize();
        Process p = new ProcessBuilder("sh", script.toString(), "-n", "desktop-base", "-d", target.toString(), "-u", vm,
                "-k", bundles.pub.toString(), "-r", "1").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new ProcessResult(p.exitValue(), out);
    }

    /** The node's own gauge of waiting long-polls (GET /metrics on the admin endpoint). */
    private static boolean watchingStarted(CompletableFuture<Run> watching) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(admin + "/metrics"))
                .header("Authorization", "Bearer " + TOKEN).build(), HttpResponse.BodyHandlers.ofString());
        return !watching.isDone() && r.body().lines().anyMatch(l -> l.startsWith("kgnode_long_poll_waiters 1"));
    }
}
