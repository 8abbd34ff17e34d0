package io.knowngood.cli.guest;

import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.knowngood.api.ApiJson;
import io.knowngood.api.VmReport;
import io.knowngood.testkit.Ci;
import io.knowngood.cli.bundle.BundleFixture;
import io.knowngood.cli.node.CannedNode;
import io.knowngood.crypto.bundle.BundlePacker;
import io.knowngood.crypto.bundle.Ed25519Keys;
import io.knowngood.crypto.bundle.RolloutPolicy;
import io.knowngood.node.TestNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.assertj.core.data.Index;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * guest/kg-fetch.sh run by /bin/sh against a real node (in process) serving real bundles packed by
 * kgctl: verified extraction, host down keeps the previous copy with its own exit code, a health
 * command's result reported to and counted by the node. Tampered or older bytes, which a node never
 * serves, and headers a node would not send, come from a {@link CannedNode} posing as a hostile host:
 * each is refused with the target untouched, except a lower, validly signed version marked
 * {@code fallback}. Runs under dash with this machine's tools; {@link KgFetchScriptBusyboxTest} runs
 * every case again under busybox sh with busybox's applets only (plus curl and openssl). Skipped
 * without dash, curl, tar, openssl, awk and sed, and failed without them under CI=true.
 */
@Execution(ExecutionMode.CONCURRENT) // see junit-platform.properties
class KgFetchScriptTest {
    private static final Path SCRIPT = Path.of("..", "guest", "kg-fetch.sh").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    private BundleFixture bundles;
    private TestNode node;
    private Path target;
    private GuestShell shell;

    @BeforeAll
    static void needsTools() {
        String missing = GuestShell.missing("dash");
        assumeTrue(Ci.available(missing), missing);
        assertThat(SCRIPT).as("guest/kg-fetch.sh in this checkout").isRegularFile();
    }

    /** The shell the script runs under (dash here; busybox in the subclass). */
    GuestShell shell(Path binDir) throws Exception {
        return GuestShell.dash();
    }

    @BeforeEach
    void setUp() throws Exception {
        shell = shell(dir.resolve("bin"));
        bundles = new BundleFixture(dir);
        node = TestNode.start(dir.resolve("node"), bundles.pub);
        target = dir.resolve("vm/etc/kg/desktop-base");
    }

    @AfterEach
    void tearDown() {
        node.close();
    }

    private record Result(int exitCode, String output) {
    }

    private Result fetch(String... extra) throws IOException, InterruptedException {
        return fetchFrom(node.vm("").toString(), extra);
    }

    private Result fetchFrom(String url, String... extra) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("-n", "desktop-base", "-d", target.toString(),
                "-u", url, "-k", bundles.pub.toString(), "-r", "2", "-t", "1"));
        args.addAll(List.of(extra));
        ProcessBuilder pb = shell.run(SCRIPT, args).redirectErrorStream(true);
        pb.environment().put("KG_RETRY_BASE", "0");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("kg-fetch.sh finished").isTrue();
        return new Result(p.exitValue(), out);
    }

    private void serve(long version) throws Exception {
        assertThat(node.publish("desktop-base", Files.readAllBytes(bundles.pack("desktop-base", version))).statusCode()).isEqualTo(201);
    }

    /** A hostile host: serves {@code archive} as desktop-base, whatever it is. */
    private Result fetchFromHostServing(Path archive) throws Exception {
        return fetchFromHostServing(archive, Map.of());
    }

    /** A hostile host: serves {@code archive} as desktop-base with {@code headers}, whatever they are. */
    private Result fetchFromHostServing(Path archive, Map<String, String> headers, String... extra) throws Exception {
        try (CannedNode hostile = host(archive, headers)) {
            return fetchFrom(hostile.url().toString(), extra);
        }
    }

    private static CannedNode host(Path archive, Map<String, String> headers) throws IOException {
        return CannedNode.servingArchive("desktop-base", Files.readAllBytes(archive), headers);
    }

    private static final Map<String, String> FALLBACK = Map.of("X-Knowngood-State", "fallback", "X-Knowngood-Latest", "2");

    /** The held version as kg-fetch.sh recorded it beside the target. */
    private String heldVersion() throws IOException {
        return Files.readString(target.resolveSibling(".desktop-base.kg-state")).split(" ")[0];
    }

    /** The node's {@code kgnode_vm_reports_total{result=...}}: reports it counted. */
    private double reportsCounted(String result) throws Exception {
        String metrics = node.adminGet("/metrics").body();
        Matcher m = Pattern.compile("^kgnode_vm_reports_total\\{result=\"" + result + "\"\\} (\\S+)$", Pattern.MULTILINE).matcher(metrics);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    /** The one report {@code host} received, decoded by the api's codec (so it is JSON the node accepts). */
    private static VmReport theReport(CannedNode host) {
        List<byte[]> bodies = host.received("/v1/reports");
        assertThat(bodies).hasSize(1);
        ApiJson.Decoded<VmReport> d = ApiJson.decode(bodies.get(0), VmReport.class);
        assertThat(d).as(new String(bodies.get(0), StandardCharsets.UTF_8)).isInstanceOf(ApiJson.Decoded.Body.class);
        return ((ApiJson.Decoded.Body<VmReport>) d).value();
    }

    @Test
    void fetch_verifiesAndInstalls_thenSaysCurrent() throws Exception {
        serve(1);

        Result first = fetch();

        assertThat(first.exitCode()).as(first.output()).isZero();
        assertThat(first.output()).contains("installed desktop-base version 1");
        assertThat(Files.readString(target.resolve("etc/app.conf"))).isEqualTo("key=value\n");
        assertThat(Files.readString(target.resolve("readme.txt"))).isEqualTo("hello");

        Result again = fetch();
        assertThat(again.exitCode()).as(again.output()).isZero();
        assertThat(again.output()).contains("desktop-base version 1 is current");
    }

    /**
     * A publisher key rotation as guests see it: a bundle signed with the old and the new key installs
     * under either key (guest images keep working while they move to the new key); one signed with the
     * new key alone is refused by a guest that knows only the old key.
     */
    @Test
    void fetch_aBundleSignedWithTheOldAndTheNewKey_installsUnderEither_theNewKeyAloneNotUnderTheOld() throws Exception {
        io.knowngood.cli.KgctlRunner.Run gen = bundles.kgctl.run("keys", "generate", "--out", dir.resolve("keys2").toString(), "--name", "pub2");
        assertThat(gen.exitCode()).as(gen.err()).isZero();
        Path newKey = dir.resolve("keys2/pub2.key");
        Path newPub = dir.resolve("keys2/pub2.pub");
        Path both = dir.resolve("both.tar");
        assertThat(bundles.kgctl.run("bundle", "pack", bundles.src.toString(), "--name", "desktop-base", "--version", "1",
                "--key", bundles.key.toString(), "--key", newKey.toString(), "--out", both.toString()).exitCode()).isZero();
        assertThat(node.publish("desktop-base", Files.readAllBytes(both)).statusCode()).isEqualTo(201);

        Result underOld = fetch();
        deleteTree(target.getParent());
        Result underNew = fetch("-k", newPub.toString());

        assertThat(underOld.exitCode()).as(underOld.output()).isZero();
        assertThat(underNew.exitCode()).as(underNew.output()).isZero();
        assertThat(underNew.output()).contains("installed desktop-base version 1");

        Path newOnly = dir.resolve("new-only.tar");
        assertThat(bundles.kgctl.run("bundle", "pack", bundles.src.toString(), "--name", "desktop-base", "--version", "2",
                "--key", newKey.toString(), "--out", newOnly.toString()).exitCode()).isZero();
        Result refused = fetchFromHostServing(newOnly);

        assertThat(refused.exitCode()).as(refused.output()).isEqualTo(1);
        assertThat(refused.output()).contains("refused: bad_signature");
        assertThat(heldVersion()).isEqualTo("1");
    }

    @Test
    void fetch_stateFileOfAnOlderKgFetch_versionAndEtagOnly_stillRead() throws Exception {
        serve(1);
        fetch();
        Path state = target.resolveSibling(".desktop-base.kg-state");
        String[] fields = Files.readString(state).trim().split(" ");
        assertThat(fields).hasSize(3).contains("-", Index.atIndex(2));
        Files.writeString(state, fields[0] + " " + fields[1] + "\n");

        Result r = fetch();

        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("desktop-base version 1 is current (node state: good)");
    }

    @Test
    void fetch_newVersion_replacesTheTree() throws Exception {
        serve(1);
        fetch();
        Files.delete(bundles.src.resolve("readme.txt"));
        Files.writeString(bundles.src.resolve("etc/app.conf"), "key=2\n");
        serve(2);

        Result r = fetch();

        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(Files.readString(target.resolve("etc/app.conf"))).isEqualTo("key=2\n");
        assertThat(target.resolve("readme.txt")).doesNotExist();
        try (var leftovers = Files.list(target.getParent())) {
            assertThat(leftovers.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("desktop-base", ".desktop-base.kg-state");
        }
    }

    @Test
    void fetch_tamperedFile_isRefused_targetUntouched() throws Exception {
        serve(1);
        fetch();
        Result r = fetchFromHostServing(BundleFixture.tamper(bundles.pack("desktop-base", 2), "hello", "jello"));

        assertThat(r.exitCode()).as(r.output()).isEqualTo(1);
        assertThat(r.output()).contains("refused: hash_mismatch: readme.txt");
        assertThat(Files.readString(target.resolve("readme.txt"))).isEqualTo("hello");
    }

    @Test
    void fetch_tamperedManifest_isRefusedAsBadSignature() throws Exception {
        Result r = fetchFromHostServing(BundleFixture.tamper(bundles.pack("desktop-base", 2), "\"version\":2", "\"version\":3"));

        assertThat(r.exitCode()).as(r.output()).isEqualTo(1);
        assertThat(r.output()).contains("refused: bad_signature");
        assertThat(target).doesNotExist();
    }

    @Test
    void fetch_signedByAnotherKey_isRefused() throws Exception {
        serve(1);
        Path other = dir.resolve("other.pub");
        Ed25519Keys.writePublicPem(Ed25519Keys.generate().getPublic(), other);

        Result r = fetch("-k", other.toString());

        assertThat(r.exitCode()).as(r.output()).isEqualTo(1);
        assertThat(target).doesNotExist();
    }

    @Test
    void fetch_olderVersionThanInstalled_isRefusedAsRollback() throws Exception {
        Path v1 = bundles.pack("desktop-base", 1);
        serve(2);
        fetch();
        Result r = fetchFromHostServing(v1);

        assertThat(r.exitCode()).as(r.output()).isEqualTo(1);
        assertThat(r.output()).contains("refused: rollback: offered version 1, version 2 is already in place");
    }

    @Test
    void fetch_hostDown_keepsThePreviousCopy_exit4() throws Exception {
        serve(1);
        fetch();
        node.close();

        Result r = fetch();

        assertThat(r.exitCode()).as(r.output()).isEqualTo(4);
        assertThat(r.output()).contains("unreachable after 2 attempts", "keeping the previous copy (version 1)");
        assertThat(Files.readString(target.resolve("readme.txt"))).isEqualTo("hello");
    }

    @Test
    void fetch_unknownBundle_exit7_badUsage_exit2() throws Exception {
        Result missing = fetch();
        Result usage = fetch("-n", "Not A Name");

        assertThat(missing.exitCode()).as(missing.output()).isEqualTo(7);
        assertThat(usage.exitCode()).as(usage.output()).isEqualTo(2);
    }

    @Test
    void noAttempts_orNoConnectTimeout_isAUsageError_notOneAttemptOrCurlsMinutes() throws Exception {
        serve(1);

        Result noAttempts = fetch("-r", "0");
        Result noTimeout = fetch("-t", "0");

        assertThat(noAttempts.exitCode()).as(noAttempts.output()).isEqualTo(2);
        assertThat(noAttempts.output()).contains("-r must be at least 1");
        assertThat(noTimeout.exitCode()).as(noTimeout.output()).isEqualTo(2);
        assertThat(noTimeout.output()).contains("-t must be at least 1 second");
        assertThat(target).doesNotExist();
    }

    @Test
    void sigtermBetweenTheTwoRenames_isActedOnOnceTheNewTreeIsInPlace_neverLeavesNoTree() throws Exception {
        serve(1);
        fetch();
        Files.writeString(bundles.src.resolve("readme.txt"), "two");
        serve(2);
        Path marker = dir.resolve("moving-aside");
        // mv of the target aside (the first of the two renames) takes 2 s: SIGTERM lands in between
        GuestShell slowMv = shell.wrapping("mv", "if [ \"$1\" = '" + target + "' ]; then : > '" + marker + "'; sleep 2; fi\n"
                + "exec \"$REAL\" \"$@\"\n", dir.resolve("bin-slow-mv"));
        Process p = slowMv.run(SCRIPT, List.of("-n", "desktop-base", "-d", target.toString(), "-u", node.vm("").toString(),
                "-k", bundles.pub.toString(), "-r", "1", "-t", "1")).redirectErrorStream(true).redirectOutput(dir.resolve("out.log").toFile()).start();
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(marker));

        p.destroy();   // SIGTERM

        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(Files.readString(dir.resolve("out.log"))).isEqualTo(130);
        assertThat(Files.readString(target.resolve("readme.txt"))).isEqualTo("two");
        assertThat(heldVersion()).isEqualTo("2");
        try (var leftovers = Files.list(target.getParent())) {
            assertThat(leftovers.map(f -> f.getFileName().toString())).containsExactlyInAnyOrder("desktop-base", ".desktop-base.kg-state");
        }
    }

    // ---- fallback: a lower version only when the node says so, and only if it verifies ----

    @Test
    void fetch_lowerVersionMarkedFallback_isInstalledAndHeld_thenNewerAgain() throws Exception {
        Path v1 = bundles.pack("desktop-base", 1);
        Files.writeString(bundles.src.resolve("readme.txt"), "two");
        serve(2);
        assertThat(fetch().exitCode()).isZero();

        Result back = fetchFromHostServing(v1, FALLBACK);

        assertThat(back.exitCode()).as(back.output()).isZero();
        assertThat(back.output()).contains("kg-fetch: desktop-base: falling back from version 2 to 1 (the node reverted 2",
                "installed desktop-base version 1 into " + target + " (node state: fallback; latest held there: 2)");
        assertThat(Files.readString(target.resolve("readme.txt"))).isEqualTo("hello");
        assertThat(heldVersion()).isEqualTo("1");

        Result forward = fetch();
        assertThat(forward.exitCode()).as(forward.output()).isZero();
        assertThat(forward.output()).contains("installed desktop-base version 2 into " + target + " (node state: good)");
        assertThat(Files.readString(target.resolve("readme.txt"))).isEqualTo("two");
    }

    @Test
    void fetch_lowerVersionMarkedOtherThanFallback_isRefusedAsRollback() throws Exception {
        Path v1 = bundles.pack("desktop-base", 1);
        serve(2);
        fetch();

        for (String state : List.of("good", "rolling", "Fallback", "fallback, good")) {
            Result r = fetchFromHostServing(v1, Map.of("X-Knowngood-State", state));

            assertThat(r.exitCode()).as(state + ": " + r.output()).isEqualTo(1);
            assertThat(r.output()).contains("refused: rollback: offered version 1, version 2 is already in place");
            assertThat(heldVersion()).isEqualTo("2");
        }
    }

    @Test
    void fetch_lowerVersionMarkedFallback_signedByAnotherKey_isRefused() throws Exception {
        BundleFixture rogue = new BundleFixture(dir.resolve("rogue"));
        Path forged = rogue.pack("desktop-base", 1);
        Files.writeString(bundles.src.resolve("readme.txt"), "two");
        serve(2);
        fetch();

        Result r = fetchFromHostServing(forged, FALLBACK);

        assertThat(r.exitCode()).as(r.output()).isEqualTo(1);
        assertThat(r.output()).contains("refused: bad_signature").doesNotContain("falling back");
        assertThat(Files.readString(target.resolve("readme.txt"))).isEqualTo("two");
        assertThat(heldVersion()).isEqualTo("2");
    }

    @Test
    void fetch_lowerVersionMarkedFallback_tampered_isRefused() throws Exception {
        Path v1 = bundles.pack("desktop-base", 1);
        Files.writeString(bundles.src.resolve("readme.txt"), "two");
        serve(2);
        fetch();

        Result file = fetchFromHostServing(BundleFixture.tamper(v1, "hello", "jello"), FALLBACK);
        Result manifest = fetchFromHostServing(BundleFixture.tamper(v1, "\"size\":5", "\"size\":6"), FALLBACK);

        assertThat(file.exitCode()).as(file.output()).isEqualTo(1);
        assertThat(file.output()).contains("refused: hash_mismatch: readme.txt");
        assertThat(manifest.exitCode()).as(manifest.output()).isEqualTo(1);
        assertThat(manifest.output()).contains("refused: bad_signature");
        assertThat(Files.readString(target.resolve("readme.txt"))).isEqualTo("two");
        assertThat(heldVersion()).isEqualTo("2");
    }

    // ---- -c: the health command and its report ----

    @Test
    void healthCommandOk_isReportedOk_andCountedByTheNode() throws Exception {
        serve(1);

        Result r = fetch("-c", "test -f \"$KG_DIR/readme.txt\" && echo \"$KG_NAME $KG_VERSION looks fine\"");

        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("installed desktop-base version 1", "desktop-base 1 looks fine",
                "reported ok for desktop-base version 1");
        assertThat(reportsCounted("ok")).isEqualTo(1.0);
        assertThat(reportsCounted("failed")).isZero();
    }

    @Test
    void healthCommand_runsWhenTheHeldVersionIsCurrent() throws Exception {
        serve(1);
        fetch();

        Result r = fetch("-c", "true");

        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("desktop-base version 1 is current (node state: good)", "reported ok for desktop-base version 1");
        assertThat(reportsCounted("ok")).isEqualTo(1.0);
    }

    @Test
    void healthCommandFails_exit8_reportedFailed_copyKept() throws Exception {
        serve(1);

        Result r = fetch("-c", "echo 'desktop agent: cannot reach the broker'; exit 3");

        assertThat(r.exitCode()).as(r.output()).isEqualTo(8);
        assertThat(r.output()).contains("reported failed for desktop-base version 1",
                "desktop-base version 1 is in place, but the health command failed (exit 3); reported failed");
        assertThat(Files.readString(target.resolve("readme.txt"))).isEqualTo("hello");
        assertThat(reportsCounted("failed")).isEqualTo(1.0);
    }

    /** Quotes, backslashes, control bytes, a terminal escape, bytes that are not UTF-8, a CR LF. */
    private static byte[] nastyOutput() {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        b.writeBytes("first line\n  said \"hi\" \\ C:\\dir\\ \u0001\u001b[31mred\u007f\ttab é 日本 😀 ".getBytes(StandardCharsets.UTF_8));
        b.writeBytes(new byte[] {(byte) 0xff, (byte) 0xc0, (byte) 0x80, ' ', (byte) 0xed, (byte) 0xa0, (byte) 0x80, 0, ' '});
        b.writeBytes("end\r\n\n   \n".getBytes(StandardCharsets.UTF_8));
        return b.toByteArray();
    }

    @Test
    void healthCommandNastyOutput_isValidJson_theNodeCountsIt() throws Exception {
        serve(1);
        Path out = dir.resolve("nasty.out");
        Files.write(out, nastyOutput());

        Result r = fetch("-c", "cat '" + out + "'");

        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("reported ok for desktop-base version 1");
        assertThat(reportsCounted("ok")).isEqualTo(1.0);
    }

    @Test
    void healthCommandNastyOutput_detailIsTheLastLine_escapedExactly() throws Exception {
        Path out = dir.resolve("nasty.out");
        Files.write(out, nastyOutput());

        try (CannedNode host = host(bundles.pack("desktop-base", 1), Map.of()).acceptingReports()) {
            Result r = fetchFrom(host.url().toString(), "-c", "cat '" + out + "'; exit 1");

            assertThat(r.exitCode()).as(r.output()).isEqualTo(8);
            assertThat(theReport(host)).isEqualTo(new VmReport("desktop-base", 1L, "failed",
                    "said \"hi\" \\ C:\\dir\\ \u0001\u001b[31mred\u007f\ttab é 日本 😀 \ufffd\ufffd\ufffd \ufffd\ufffd\ufffd end"));
        }
    }

    @Test
    void healthCommandLongOutput_detailCutTo200Characters() throws Exception {
        Path out = dir.resolve("long.out");
        Files.writeString(out, "é".repeat(150) + "日".repeat(100) + "\n");

        try (CannedNode host = host(bundles.pack("desktop-base", 1), Map.of()).acceptingReports()) {
            Result r = fetchFrom(host.url().toString(), "-c", "cat '" + out + "'");

            assertThat(r.exitCode()).as(r.output()).isZero();
            assertThat(theReport(host).detail()).isEqualTo("é".repeat(150) + "日".repeat(50));
        }
    }

    @Test
    void reportRefusedOrUnanswered_doesNotChangeTheExitCode() throws Exception {
        Path v1 = bundles.pack("desktop-base", 1);

        Result flooded;
        try (CannedNode host = host(v1, Map.of()).refusingReports()) {
            flooded = fetchFrom(host.url().toString(), "-c", "true");
        }
        Result noRoute = fetchFromHostServing(v1, Map.of(), "-c", "exit 1");

        assertThat(flooded.exitCode()).as(flooded.output()).isZero();
        assertThat(flooded.output()).contains("could not report ok for desktop-base version 1: HTTP 429", "exit code unchanged");
        assertThat(noRoute.exitCode()).as(noRoute.output()).isEqualTo(8);
        assertThat(noRoute.output()).contains("could not report failed for desktop-base version 1: HTTP 404",
                "the health command failed (exit 1); the report was not accepted");
    }

    @Test
    void withoutHealthCommand_nothingIsReported() throws Exception {
        try (CannedNode host = host(bundles.pack("desktop-base", 1), Map.of()).acceptingReports()) {
            Result r = fetchFrom(host.url().toString());

            assertThat(r.exitCode()).as(r.output()).isZero();
            assertThat(host.received("/v1/reports")).isEmpty();
        }
    }

    // ---- expiry: a warning, never a failure ----

    @Test
    void expiredMarked_warns_andInstallsAsUsual() throws Exception {
        Result r = fetchFromHostServing(bundles.pack("desktop-base", 1), Map.of("X-Knowngood-Expired", "true"), "-c", "true");

        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("installed desktop-base version 1",
                "kg-fetch: desktop-base version 1 expired (at a time not known here); still the last known good");
        assertThat(Files.readString(target.resolve("readme.txt"))).isEqualTo("hello");
    }

    // ---- against a real node's rollout and expiry (bundles packed with crypto's PackOptions) ----

    private byte[] packWith(long version, String readme, BundlePacker.PackOptions opts, Clock clock) throws IOException {
        SortedMap<String, byte[]> files = new TreeMap<>(Map.of("etc/app.conf", "key=value\n".getBytes(StandardCharsets.UTF_8),
                "readme.txt", readme.getBytes(StandardCharsets.UTF_8)));
        return BundlePacker.pack("desktop-base", version, files, opts, Ed25519Keys.readPrivatePem(bundles.key), clock);
    }

    @Test
    void realNode_revertedByFailureReports_guestFallsBack() throws Exception {
        serve(1);
        fetch();
        RolloutPolicy everyHostAtOnce = new RolloutPolicy(List.of(), 3, 300, 2);
        byte[] v2 = packWith(2, "two", new BundlePacker.PackOptions(Map.of(), Optional.empty(), Optional.of(everyHostAtOnce)), Clock.systemUTC());
        assertThat(node.publish("desktop-base", v2).statusCode()).isEqualTo(201);
        String healthy = "grep -q hello \"$KG_DIR/readme.txt\" || { echo \"readme of $KG_VERSION is not hello\"; exit 1; }";

        Result broken = fetch("-c", healthy);
        assertThat(broken.exitCode()).as(broken.output()).isEqualTo(8);
        assertThat(broken.output()).contains("installed desktop-base version 2 into " + target + " (node state: rolling)",
                "reported failed for desktop-base version 2");
        // a second VM (another source address) fails too: revert_failed 2 reached, the node reverts version 2
        assertThat(node.report("127.0.0.2", "{\"name\":\"desktop-base\",\"version\":2,\"result\":\"failed\"}").status()).isEqualTo(202);

        Result back = fetch("-c", healthy);

        assertThat(back.exitCode()).as(back.output()).isZero();
        assertThat(back.output()).contains("falling back from version 2 to 1",
                "installed desktop-base version 1 into " + target + " (node state: fallback; latest held there: 2)",
                "reported ok for desktop-base version 1");
        assertThat(Files.readString(target.resolve("readme.txt"))).isEqualTo("hello");
        assertThat(heldVersion()).isEqualTo("1");
        assertThat(reportsCounted("failed")).isEqualTo(2.0);
        assertThat(reportsCounted("ok")).isEqualTo(1.0);
    }

    @Test
    void realNode_expiredVersion_isInstalled_withAWarning_alsoWhenCurrent() throws Exception {
        Instant expires = Instant.parse("2026-01-01T00:00:00Z");
        Clock packedBefore = Clock.fixed(expires.minus(Duration.ofDays(1)), ZoneOffset.UTC);
        byte[] v1 = packWith(1, "hello", new BundlePacker.PackOptions(Map.of(), Optional.of(expires), Optional.empty()), packedBefore);
        assertThat(node.publish("desktop-base", v1).statusCode()).isEqualTo(201);

        Result first = fetch();
        Result again = fetch();

        String warning = "kg-fetch: desktop-base version 1 expired at 2026-01-01T00:00:00Z; still the last known good";
        assertThat(first.exitCode()).as(first.output()).isZero();
        assertThat(first.output()).contains("installed desktop-base version 1", warning);
        assertThat(Files.readString(target.resolve("readme.txt"))).isEqualTo("hello");
        assertThat(again.exitCode()).as(again.output()).isZero();
        assertThat(again.output()).contains("desktop-base version 1 is current (node state: good)", warning);
    }

    private static void deleteTree(Path root) throws IOException {
        try (java.util.stream.Stream<Path> all = Files.walk(root)) {
            for (Path p : (Iterable<Path>) all.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.delete(p);
            }
        }
    }
}
