package io.knowngood.cli.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.knowngood.cli.bundle.BundleFixture;
import io.knowngood.crypto.bundle.BundlePacker;
import io.knowngood.crypto.bundle.Ed25519Keys;
import io.knowngood.node.TestNode;
import io.knowngood.testkit.Ci;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kg-fetch.sh -i IDENTITY} against a real node serving a bundle whose secrets were encrypted
 * at packing by the stock {@code age -r} (a {@link BundlePacker.FileSealer} in this test, not kgctl's
 * own sealer): each sealed file is installed as its exact plaintext, mode 0600, with no ciphertext
 * left anywhere in the target; without -i the ciphertext is installed with a warning naming it;
 * with -i but no age, or with an identity the files were not sealed to, the previous copy stays.
 * Runs under dash; {@link KgFetchIdentityBusyboxTest} runs it under busybox sh.
 */
class KgFetchIdentityTest {
    private static final Path SCRIPT = Path.of("..", "guest", "kg-fetch.sh").toAbsolutePath().normalize();
    private static final byte[] DB_PASS = "s3cret \"pass\" \\ with é\n\u0000\u00ff end".getBytes(StandardCharsets.UTF_8);
    private static final byte[] API_TOKEN = "token-123\n".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    private GuestShell shell;
    private BundleFixture bundles;
    private TestNode node;
    private Path target;
    private Path identity;

    @BeforeAll
    static void needsTools() {
        String missing = GuestShell.missing("dash");
        if (missing == null) {
            missing = Ci.missingTools("age", "age-keygen");
        }
        assumeTrue(Ci.available(missing), missing);
    }

    GuestShell shell(Path binDir) throws Exception {
        return GuestShell.dash();
    }

    @BeforeEach
    void setUp() throws Exception {
        shell = shell(dir.resolve("bin"));
        bundles = new BundleFixture(dir);
        node = TestNode.start(dir.resolve("node"), bundles.pub);
        target = dir.resolve("vm/etc/kg/desktop-base");
        identity = ageKeygen(dir.resolve("pool.key"));
    }

    @AfterEach
    void tearDown() {
        node.close();
    }

    private record Result(int exitCode, String output) {
    }

    private Result fetch(GuestShell sh, String... extra) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("-n", "desktop-base", "-d", target.toString(),
                "-u", node.vm("").toString(), "-k", bundles.pub.toString(), "-r", "1", "-t", "1"));
        args.addAll(List.of(extra));
        Process p = sh.run(SCRIPT, args).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("kg-fetch.sh finished").isTrue();
        return new Result(p.exitValue(), out);
    }

    /** A new age X25519 identity from the stock age-keygen. */
    private static Path ageKeygen(Path file) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("age-keygen", "-o", file.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0).as(out).isTrue();
        return file;
    }

    private static String recipientOf(Path identityFile) throws IOException {
        Matcher m = Pattern.compile("^# public key: (age1[0-9a-z]+)$", Pattern.MULTILINE).matcher(Files.readString(identityFile));
        assertThat(m.find()).as("public key line in " + identityFile).isTrue();
        return m.group(1);
    }

    /** Seals the files under secrets/ with {@code age -r RECIPIENT}, as an admin's own tooling could. */
    private record AgeCliSealer(String recipient, Path scratch) implements BundlePacker.FileSealer {
        @Override
        public boolean matches(String path) {
            return path.startsWith("secrets/");
        }

        @Override
        public byte[] seal(String path, byte[] plain) {
            try {
                Path in = Files.createTempFile(scratch, "plain", "");
                Path out = scratch.resolve(in.getFileName() + ".age");
                Files.write(in, plain);
                Process p = new ProcessBuilder("age", "-r", recipient, "-o", out.toString(), in.toString()).redirectErrorStream(true).start();
                String msg = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                    throw new IllegalStateException("age -r failed for " + path + ": " + msg);
                }
                return Files.readAllBytes(out);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    /** Publishes version {@code version}: one file in the clear, two sealed to {@code recipientKey}'s recipient. */
    private byte[] publishSealed(long version, Path recipientKey) throws Exception {
        SortedMap<String, byte[]> files = new TreeMap<>(Map.of(
                "etc/app.conf", ("key=" + version + "\n").getBytes(StandardCharsets.UTF_8),
                "secrets/db.pass", DB_PASS,
                "secrets/nested/api token.txt", API_TOKEN));
        Path scratch = Files.createDirectories(dir.resolve("seal-" + version));
        BundlePacker.PackOptions opts = BundlePacker.PackOptions.none().withSealer(new AgeCliSealer(recipientOf(recipientKey), scratch));
        byte[] archive = BundlePacker.pack("desktop-base", version, files, opts, Ed25519Keys.readPrivatePem(bundles.key), Clock.systemUTC());
        assertThat(node.publish("desktop-base", archive).statusCode()).isEqualTo(201);
        return archive;
    }

    private List<String> filesUnderTarget() throws IOException {
        try (Stream<Path> all = Files.walk(target)) {
            return all.filter(Files::isRegularFile).map(p -> target.relativize(p).toString()).sorted().toList();
        }
    }

    private static boolean isAgeFile(byte[] b) {
        return new String(b, 0, Math.min(b.length, 21), StandardCharsets.US_ASCII).equals("age-encryption.org/v1");
    }

    @Test
    void identity_decryptsEverySealedFile_toTheExactPlaintext_mode0600() throws Exception {
        byte[] archive = publishSealed(1, identity);
        Path saved = Files.write(dir.resolve("v1.tar"), archive);
        Map<String, byte[]> entries = BundleFixture.entries(saved);
        assertThat(new String(entries.get("manifest.json"), StandardCharsets.UTF_8)).contains("{\"encrypted\":\"age\",\"path\":\"secrets/db.pass\"");
        assertThat(isAgeFile(entries.get("files/secrets/db.pass"))).as("served as ciphertext").isTrue();

        Result r = fetch(shell, "--identity", identity.toString());

        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("installed desktop-base version 1").doesNotContain("warning");
        assertThat(Files.readAllBytes(target.resolve("secrets/db.pass"))).isEqualTo(DB_PASS);
        assertThat(Files.readAllBytes(target.resolve("secrets/nested/api token.txt"))).isEqualTo(API_TOKEN);
        assertThat(Files.readString(target.resolve("etc/app.conf"))).isEqualTo("key=1\n");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(target.resolve("secrets/db.pass")))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(target.resolve("secrets/nested/api token.txt")))).isEqualTo("rw-------");
        assertThat(filesUnderTarget()).containsExactly("etc/app.conf", "secrets/db.pass", "secrets/nested/api token.txt");
        try (Stream<Path> left = Files.list(target.getParent())) {
            assertThat(left.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("desktop-base", ".desktop-base.kg-state");
        }
    }

    @Test
    void noIdentity_installsTheCiphertext_withAWarningNamingTheFiles() throws Exception {
        publishSealed(1, identity);

        Result r = fetch(shell);

        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("warning: desktop-base version 1: installed still encrypted (age), since no -i IDENTITY was given: "
                + "secrets/db.pass, secrets/nested/api token.txt");
        assertThat(isAgeFile(Files.readAllBytes(target.resolve("secrets/db.pass")))).isTrue();
        assertThat(Files.readString(target.resolve("etc/app.conf"))).isEqualTo("key=1\n");
    }

    @Test
    void identityWithoutAge_clearError_previousCopyUntouched() throws Exception {
        publishSealed(1, identity);
        assertThat(fetch(shell, "-i", identity.toString()).exitCode()).isZero();
        publishSealed(2, identity);

        Result r = fetch(shell.without("age", dir.resolve("bin-no-age")), "-i", identity.toString());

        assertThat(r.exitCode()).as(r.output()).isEqualTo(3);
        assertThat(r.output()).contains("age is not installed: -i needs it to decrypt; nothing was changed");
        assertThat(Files.readString(target.resolve("etc/app.conf"))).isEqualTo("key=1\n");
        assertThat(Files.readAllBytes(target.resolve("secrets/db.pass"))).isEqualTo(DB_PASS);
        assertThat(Files.readString(target.resolveSibling(".desktop-base.kg-state"))).startsWith("1 ");
    }

    @Test
    void identityTheFilesWereNotSealedTo_cannotDecrypt_previousCopyUntouched() throws Exception {
        publishSealed(1, identity);
        assertThat(fetch(shell, "-i", identity.toString()).exitCode()).isZero();
        publishSealed(2, ageKeygen(dir.resolve("other-pool.key")));

        Result r = fetch(shell, "-i", identity.toString());

        assertThat(r.exitCode()).as(r.output()).isEqualTo(3);
        assertThat(r.output()).contains("cannot decrypt secrets/db.pass with " + identity, "keeping the previous copy");
        assertThat(Files.readString(target.resolve("etc/app.conf"))).isEqualTo("key=1\n");
        assertThat(Files.readAllBytes(target.resolve("secrets/db.pass"))).isEqualTo(DB_PASS);
        assertThat(Files.readString(target.resolveSibling(".desktop-base.kg-state"))).startsWith("1 ");
    }
}
