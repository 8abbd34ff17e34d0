package io.knowngood.cli.guest;

import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.testkit.Ci;
import io.knowngood.cli.bundle.BundleFixture;
import io.knowngood.cli.node.CannedNode;
import io.knowngood.crypto.bundle.Ed25519Keys;
import io.knowngood.node.TestNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * guest/kg-fetch.sh run by /bin/sh against a real node (in process) serving real bundles packed by
 * kgctl: verified extraction, host down keeps the previous copy with its own exit code. Tampered or
 * older bytes, which a node never serves, come from a {@link CannedNode} posing as a hostile host;
 * each is refused with the target untouched. Needs sh, curl, tar, openssl, awk and sed: skipped
 * without them, and failed without them under CI=true.
 */
class KgFetchScriptTest {
    private static final Path SCRIPT = Path.of("..", "guest", "kg-fetch.sh").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    private BundleFixture bundles;
    private TestNode node;
    private Path target;

    @BeforeAll
    static void needsTools() {
        String missing = Ci.missingTools("sh", "curl", "tar", "openssl", "awk", "sed");
        assumeTrue(Ci.available(missing), missing);
        assertThat(SCRIPT).as("guest/kg-fetch.sh in this checkout").isRegularFile();
    }

    @BeforeEach
    void setUp() throws Exception {
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
        List<String> cmd = new ArrayList<>(List.of("sh", SCRIPT.toString(), "-n", "desktop-base", "-d", target.toString(),
                "-u", url, "-k", bundles.pub.toString(), "-r", "2", "-t", "1"));
        cmd.addAll(List.of(extra));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
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
        try (CannedNode hostile = CannedNode.servingArchive("desktop-base", Files.readAllBytes(archive))) {
            return fetchFrom(hostile.url().toString());
        }
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
}
