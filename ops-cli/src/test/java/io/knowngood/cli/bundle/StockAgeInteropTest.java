package io.knowngood.cli.bundle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.knowngood.cli.KgctlRunner;
import io.knowngood.cli.KgctlRunner.Run;
import io.knowngood.testkit.Ci;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15's promise to guests: a secret packed by kgctl is read back by the stock {@code age} tool
 * (Debian package age) from the file as extracted from the archive, with an identity from
 * {@code kgctl keys generate --age} or from the stock {@code age-keygen}. Skipped where age is not
 * installed; failed under CI=true.
 */
class StockAgeInteropTest {
    @TempDir
    Path dir;

    private BundleFixture f;
    private final KgctlRunner kgctl = new KgctlRunner();
    private byte[] secret;

    @BeforeAll
    static void needsAge() {
        String missing = Ci.missingTools("age", "age-keygen");
        assumeTrue(Ci.available(missing), missing);
    }

    @BeforeEach
    void setUp() throws Exception {
        f = new BundleFixture(dir);
        Files.createDirectories(f.src.resolve("secrets"));
        // text, a NUL, high bytes and more than one 64 KiB age chunk: recovered byte for byte or not at all
        StringBuilder b = new StringBuilder(PackPoolsSecretsTest.SECRET).append('\n');
        while (b.length() < 70_000) {
            b.append("line ").append(b.length()).append('\n');
        }
        secret = (b + "\u0000\u00ff\u00e9").getBytes(StandardCharsets.ISO_8859_1);
        Files.write(f.src.resolve("secrets/db.pw"), secret);
        Files.write(f.src.resolve("secrets/empty"), new byte[0]);
    }

    @Test
    void keyFromKgctlKeysGenerateAge_stockAgeDecryptsTheExtractedFile() throws Exception {
        String recipient = kgctlAgeKey("finance");
        Path archive = pack(List.of(recipient));

        Path extracted = extract(archive, "secrets/db.pw");
        assertThat(PackPoolsSecretsTest.indexOf(Files.readAllBytes(archive), "correct-horse".getBytes(StandardCharsets.UTF_8))).isEqualTo(-1);
        Result r = age(dir.resolve("age/finance.agekey"), extracted);
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo(secret);

        Result empty = age(dir.resolve("age/finance.agekey"), extract(archive, "secrets/empty"));
        assertThat(empty.exitCode()).as(empty.err()).isZero();
        assertThat(empty.out()).isEmpty();
        assertThat(kgctl.run("bundle", "verify", archive.toString(), "--trust", f.pub.toString()).exitCode()).isZero();
    }

    @Test
    void keyFromStockAgeKeygen_recipientPassedToRecipient_stockAgeDecrypts() throws Exception {
        Path key = dir.resolve("stock.key");
        String recipient = ageKeygen(key);
        Path archive = pack(List.of(recipient));

        Result r = age(key, extract(archive, "secrets/db.pw"));

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo(secret);
    }

    @Test
    void twoRecipients_bothDecrypt_andAnIdentityNotGivenCannot() throws Exception {
        String kgctlRecipient = kgctlAgeKey("finance");
        Path stockKey = dir.resolve("stock.key");
        String stockRecipient = ageKeygen(stockKey);
        kgctlAgeKey("kiosk"); // a pool identity the bundle was not encrypted to
        Path extracted = extract(pack(List.of(kgctlRecipient, stockRecipient)), "secrets/db.pw");

        Result one = age(dir.resolve("age/finance.agekey"), extracted);
        Result two = age(stockKey, extracted);
        Result other = age(dir.resolve("age/kiosk.agekey"), extracted);

        assertThat(one.exitCode()).as(one.err()).isZero();
        assertThat(one.out()).isEqualTo(secret);
        assertThat(two.exitCode()).as(two.err()).isZero();
        assertThat(two.out()).isEqualTo(secret);
        assertThat(other.exitCode()).isNotZero();
        assertThat(other.out()).isEmpty();
    }

    @Test
    void keysGenerateAge_stockAgeKeygenDerivesTheSameRecipient() throws Exception {
        String recipient = kgctlAgeKey("finance");

        Result derived = run(List.of("age-keygen", "-y", dir.resolve("age/finance.agekey").toString()));

        assertThat(derived.exitCode()).as(derived.err()).isZero();
        assertThat(new String(derived.out(), StandardCharsets.US_ASCII).strip()).isEqualTo(recipient);
    }

    private String kgctlAgeKey(String name) throws IOException {
        Run r = kgctl.run("keys", "generate", "--age", "--out", dir.resolve("age").toString(), "--name", name, "--output", "json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        return new ObjectMapper().readTree(r.out()).get("recipient").asText();
    }

    private Path pack(List<String> recipients) {
        Path out = dir.resolve("secret-" + recipients.size() + ".tar");
        List<String> args = new ArrayList<>(List.of("bundle", "pack", f.src.toString(), "--name", "fin", "--version", "1",
                "--key", f.key.toString(), "--out", out.toString(), "--pool", "finance", "--encrypt", "secrets/**"));
        recipients.forEach(r -> args.addAll(List.of("--recipient", r)));
        Run r = kgctl.run(args.toArray(String[]::new));
        assertThat(r.exitCode()).as(r.err()).isZero();
        return out;
    }

    private Path extract(Path archive, String path) throws IOException {
        byte[] bytes = BundleFixture.entries(archive).get("files/" + path);
        assertThat(bytes).as(path + " in the archive").isNotNull();
        Path out = dir.resolve("extracted").resolve(archive.getFileName() + "-" + path.replace('/', '_'));
        Files.createDirectories(out.getParent());
        return Files.write(out, bytes);
    }

    /** A new identity from the stock age-keygen; its recipient, as {@code age-keygen -y} prints it. */
    private String ageKeygen(Path key) throws Exception {
        Result gen = run(List.of("age-keygen", "-o", key.toString()));
        assertThat(gen.exitCode()).as(gen.err()).isZero();
        Result pub = run(List.of("age-keygen", "-y", key.toString()));
        assertThat(pub.exitCode()).as(pub.err()).isZero();
        return new String(pub.out(), StandardCharsets.US_ASCII).strip();
    }

    private static Result age(Path identity, Path file) throws Exception {
        return run(List.of("age", "-d", "-i", identity.toString(), file.toString()));
    }

    private record Result(int exitCode, byte[] out, String err) {
    }

    private static Result run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> {
            try {
                return p.getErrorStream().readAllBytes();
            } catch (IOException e) {
                return e.toString().getBytes(StandardCharsets.UTF_8);
            }
        });
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as(cmd + " finished").isTrue();
        return new Result(p.exitValue(), out, new String(err.get(30, TimeUnit.SECONDS), StandardCharsets.UTF_8));
    }
}
