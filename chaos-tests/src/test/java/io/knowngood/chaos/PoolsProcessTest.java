package io.knowngood.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.crypto.bundle.Ed25519Keys;
import io.knowngood.testkit.Ci;
import io.knowngood.testkit.cluster.ChaosCluster;
import io.knowngood.testkit.process.NodeProcess;
import io.knowngood.testkit.vm.SimulatedVm;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Pools and secrets as an admin sets them up, with the real programs: three kgnode processes on a TLS
 * mesh started with {@code --pool finance=... --pool kiosk=...}; a pool identity from
 * {@code kgctl keys generate --age}; a finance bundle packed by {@code kgctl bundle pack --pool finance
 * --encrypt 'secrets/*' --recipient age1...} and published by {@code kgctl publish}, next to an
 * unscoped one. VMs are loopback source addresses: finance 127.0.151.x, kiosk 127.0.152.x, no pool
 * 127.0.153.x. Checks what each VM sees on every route of every node, that the secret is ciphertext on
 * the wire and on every node's disk, and that the stock {@code age -d -i} recovers it.
 */
class PoolsProcessTest {
    static final int IP_BASE = ChaosCluster.ipBaseProperty(141);
    /** kgctl's runnable jar as Maven resolved it (chaos-tests' pom), else the checkout's build. */
    static final Path KGCTL = Path.of(System.getProperty("kgctl.jar", "../ops-cli/target/kgctl.jar")).toAbsolutePath().normalize();
    static final String SECRET = "db-password=finance-" + Long.toHexString(System.nanoTime()) + "-only";
    static final String SCOPED = "finance-desk";
    static final String OPEN = "common-desk";

    static ChaosCluster c;
    static Path dir;
    static Path identity;

    @BeforeAll
    static void start() throws Exception {
        Assumptions.assumeTrue(Ci.available(NodeProcess.jarMissing()), NodeProcess.jarMissing());
        Assumptions.assumeTrue(Ci.available(Ci.missingTools("age")), Ci.missingTools("age"));
        Assumptions.assumeTrue(Ci.available(Files.isRegularFile(KGCTL) ? null : "no " + KGCTL + " (build ops-cli first)"),
                "no kgctl.jar");
        dir = Files.createTempDirectory("kg-pools");
        c = new ChaosCluster(dir.resolve("mesh"), NodeProcess.jar(), 3, IP_BASE, 18100,
                List.of("--pool", "finance=127.0.151.0/24", "--pool", "kiosk=127.0.152.0/24,fd00:152::/64"));
        c.startAll();

        Path publisherKey = dir.resolve("publisher.key");
        Ed25519Keys.writePrivatePem(c.publisher().getPrivate(), publisherKey);
        Path token = dir.resolve("token");
        Files.writeString(token, ChaosCluster.TOKEN + "\n");

        String out = kgctl("keys", "generate", "--age", "--out", dir.toString(), "--name", "finance");
        Matcher m = Pattern.compile("age1[0-9a-z]{58}").matcher(out);
        assertThat(m.find()).as("kgctl keys generate --age prints the recipient: " + out).isTrue();
        String recipient = m.group();
        identity = dir.resolve("finance.agekey");
        assertThat(identity).exists();

        Path src = dir.resolve("src-finance");
        Files.createDirectories(src.resolve("secrets"));
        Files.writeString(src.resolve("app.ini"), "[app]\nledger=on\n");
        Files.writeString(src.resolve("secrets").resolve("db.pw"), SECRET + "\n");
        kgctl("bundle", "pack", src.toString(), "--name", SCOPED, "--version", "1", "--key", publisherKey.toString(),
                "--pool", "finance", "--encrypt", "secrets/*", "--recipient", recipient, "--out", dir.resolve("f.tar").toString());
        Path open = dir.resolve("src-open");
        Files.createDirectories(open);
        Files.writeString(open.resolve("motd"), "welcome\n");
        kgctl("bundle", "pack", open.toString(), "--name", OPEN, "--version", "1", "--key", publisherKey.toString(),
                "--out", dir.resolve("o.tar").toString());
        for (String f : List.of("f.tar", "o.tar")) {
            kgctl("publish", dir.resolve(f).toString(), "--node", c.node(0).adminUrl(), "--token-file", token.toString());
        }
        SimulatedVm finance = vm(151, 9);
        for (NodeProcess n : c.nodes()) {
            Awaitility.await(n.id() + " serves both bundles to a finance VM").atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(100))
                    .until(() -> get(finance, n, "/v1/bundles/" + SCOPED).status() == 200 && get(finance, n, "/v1/bundles/" + OPEN).status() == 200);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (c != null) {
            c.close();
        }
    }

    static SimulatedVm vm(int third, int last) {
        return new SimulatedVm("127.0." + third + "." + last, 5_000);
    }

    static SimulatedVm.Answer get(SimulatedVm vm, NodeProcess n, String path) {
        return vm.get(n.ip(), n.vmPort(), path);
    }

    static String kgctl(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("java", "-XX:TieredStopAtLevel=1", "-jar", KGCTL.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("kgctl " + String.join(" ", args) + ":\n" + out).isZero();
        return out;
    }

    /** Every route a VM can name for a bundle, with the method. */
    static List<String[]> routes(String name) {
        return List.of(
                new String[] {"GET", "/v1/bundles/" + name},
                new String[] {"HEAD", "/v1/bundles/" + name},
                new String[] {"GET", "/v1/bundles/" + name + "/manifest.json"},
                new String[] {"GET", "/v1/bundles/" + name + "/signatures.json"},
                new String[] {"GET", "/v1/bundles/" + name + "/files/app.ini"},
                new String[] {"GET", "/v1/bundles/" + name + "/files/secrets/db.pw"},
                new String[] {"GET", "/v1/bundles/" + name + "?wait=20&after=0"},
                new String[] {"GET", "/v1/bundles/" + name + "/versions/1"});
    }

    @Test
    void financeVm_getsTheScopedBundle_withTheSecretAsCiphertextThatAgeDecrypts() throws Exception {
        SimulatedVm finance = vm(151, 10);
        for (NodeProcess n : c.nodes()) {
            assertThat(get(finance, n, "/v1/bundles").bodyText()).contains("\"" + SCOPED + "\"").contains("\"" + OPEN + "\"");
            SimulatedVm.Answer archive = get(finance, n, "/v1/bundles/" + SCOPED);
            assertThat(archive.status()).isEqualTo(200);
            assertThat(c.verifier().verifyAs(SCOPED, archive.body()).getClass().getSimpleName()).isEqualTo("Verified");
            assertThat(new String(archive.body(), StandardCharsets.ISO_8859_1)).doesNotContain(SECRET);
            assertThat(get(finance, n, "/v1/bundles/" + SCOPED + "/manifest.json").bodyText())
                    .contains("\"pools\":[\"finance\"]").contains("{\"encrypted\":\"age\",\"path\":\"secrets/db.pw\"");

            SimulatedVm.Answer secret = get(finance, n, "/v1/bundles/" + SCOPED + "/files/secrets/db.pw");
            assertThat(secret.status()).isEqualTo(200);
            assertThat(secret.bodyText()).startsWith("age-encryption.org/v1\n").doesNotContain(SECRET);
            Path cipher = dir.resolve("db.pw." + n.id() + ".age");
            Files.write(cipher, secret.body());
            Process age = new ProcessBuilder("age", "-d", "-i", identity.toString(), cipher.toString()).redirectErrorStream(true).start();
            String plain = new String(age.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(age.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(age.exitValue()).as(plain).isZero();
            assertThat(plain).isEqualTo(SECRET + "\n");

            assertThat(get(finance, n, "/v1/bundles/" + SCOPED + "/files/app.ini").bodyText()).isEqualTo("[app]\nledger=on\n");
        }
    }

    @Test
    void kioskVm_getsExactlyWhatAnUnknownNameGets_onEveryRouteOfEveryNode() {
        SimulatedVm kiosk = vm(152, 10);
        for (NodeProcess n : c.nodes()) {
            String list = get(kiosk, n, "/v1/bundles").bodyText();
            assertThat(list).contains("\"" + OPEN + "\"").doesNotContain(SCOPED);
            for (String[] route : routes(SCOPED)) {
                long t0 = System.nanoTime();
                SimulatedVm.Answer hidden = kiosk.send(n.ip(), n.vmPort(), route[0], route[1], null);
                long ms = (System.nanoTime() - t0) / 1_000_000;
                SimulatedVm.Answer unknown = kiosk.send(n.ip(), n.vmPort(), route[0], route[1].replace(SCOPED, "no-such-desk"), null);
                assertThat(hidden.status()).as(n.id() + " " + route[0] + " " + route[1]).isEqualTo(404);
                assertThat(hidden.bodyText()).as(route[1]).isEqualTo(unknown.bodyText().replace("no-such-desk", SCOPED));
                assertThat(ms).as("answered at once, not after the long-poll's wait: " + route[1]).isLessThan(5_000);
            }
            SimulatedVm.Answer report = kiosk.report(n.ip(), n.vmPort(), SCOPED, 1, "ok", "");
            SimulatedVm.Answer unknownReport = kiosk.report(n.ip(), n.vmPort(), "no-such-desk", 1, "ok", "");
            assertThat(report.status()).isEqualTo(404);
            assertThat(report.bodyText()).isEqualTo(unknownReport.bodyText().replace("no-such-desk", SCOPED));
            assertThat(get(kiosk, n, "/v1/bundles/" + OPEN).status()).isEqualTo(200);
        }
    }

    @Test
    void aForgedForwardingHeader_doesNotMoveAVmIntoAPool() {
        SimulatedVm kiosk = vm(152, 11);
        Map<String, String> forged = Map.of("X-Forwarded-For", "127.0.151.10", "X-Real-IP", "127.0.151.10",
                "Forwarded", "for=127.0.151.10");
        for (NodeProcess n : c.nodes()) {
            assertThat(kiosk.send(n.ip(), n.vmPort(), "GET", "/v1/bundles/" + SCOPED, null, forged).status()).isEqualTo(404);
            assertThat(kiosk.send(n.ip(), n.vmPort(), "GET", "/v1/bundles", null, forged).bodyText()).doesNotContain(SCOPED);
        }
    }

    @Test
    void vmInNoPool_seesOnlyUnscopedBundles() {
        SimulatedVm stray = vm(153, 10);
        for (NodeProcess n : c.nodes()) {
            assertThat(get(stray, n, "/v1/bundles").bodyText()).contains("\"" + OPEN + "\"").doesNotContain(SCOPED);
            assertThat(get(stray, n, "/v1/bundles/" + SCOPED).status()).isEqualTo(404);
            assertThat(get(stray, n, "/v1/bundles/" + OPEN).status()).isEqualTo(200);
        }
    }

    @Test
    void noNodeHoldsTheSecretInTheClear_anywhereInItsDataDir() throws IOException {
        int files = 0;
        for (NodeProcess n : c.nodes()) {
            try (Stream<Path> all = Files.walk(n.dataDir())) {
                for (Path p : (Iterable<Path>) all.filter(Files::isRegularFile)::iterator) {
                    files++;
                    assertThat(latin1(p)).as("plaintext secret in " + p).doesNotContain(SECRET);
                }
            }
            assertThat(heldCipher(n)).as(n.id() + " holds the ciphertext").isTrue();
        }
        assertThat(files).isGreaterThan(3);
    }

    /** A file's bytes as text, one char per byte (the secret and the age header are ASCII). */
    static String latin1(Path p) throws IOException {
        return new String(Files.readAllBytes(p), StandardCharsets.ISO_8859_1);
    }

    /** Some file in the node's data dir holds the archive with the age file inside. */
    static boolean heldCipher(NodeProcess n) throws IOException {
        try (Stream<Path> all = Files.walk(n.dataDir())) {
            for (Path p : (Iterable<Path>) all.filter(Files::isRegularFile)::iterator) {
                if (latin1(p).contains("age-encryption.org/v1")) {
                    return true;
                }
            }
        }
        return false;
    }
}
