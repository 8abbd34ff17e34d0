package io.knowngood.cli.bundle;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.knowngood.cli.KgctlRunner;
import io.knowngood.cli.KgctlRunner.Run;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15, kgctl side, without outside tools: {@code bundle pack --pool} and {@code --encrypt GLOB
 * --recipient R} as users run them, what the archive then holds, what {@code inspect} shows, and
 * every bad command line. The stock age decrypting is {@link StockAgeInteropTest}.
 */
class PackPoolsSecretsTest {
    static final String SECRET = "db-password=correct-horse-battery-staple-7f3a";

    @TempDir
    Path dir;

    private BundleFixture f;
    private final KgctlRunner kgctl = new KgctlRunner();
    private final ObjectMapper json = new ObjectMapper();

    @BeforeEach
    void setUp() throws Exception {
        f = new BundleFixture(dir);
        Files.createDirectories(f.src.resolve("secrets"));
        Files.writeString(f.src.resolve("secrets/db.pw"), SECRET);
    }

    @Test
    void pack_withPools_signsThemSortedIntoTheManifest_andVerifyPasses() throws Exception {
        Path out = dir.resolve("p.tar");
        Run r = kgctl.run("bundle", "pack", f.src.toString(), "--name", "fin", "--version", "1", "--key", f.key.toString(),
                "--out", out.toString(), "--pool", "hr", "--pool", "finance", "--output", "json");

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(json.readTree(r.out()).get("pools")).hasSize(2);
        String manifest = new String(BundleFixture.entries(out).get("manifest.json"), StandardCharsets.UTF_8);
        assertThat(manifest).contains("\"pools\":[\"finance\",\"hr\"]");
        Run v = kgctl.run("bundle", "verify", out.toString(), "--trust", f.pub.toString());
        assertThat(v.exitCode()).as(v.err()).isZero();
    }

    @Test
    void pack_withoutPools_hasNoPoolsInTheManifest() throws Exception {
        String manifest = new String(BundleFixture.entries(f.pack("all", 1)).get("manifest.json"), StandardCharsets.UTF_8);

        assertThat(manifest).doesNotContain("pools").doesNotContain("encrypted");
    }

    @Test
    void inspect_showsPools_andMarksEncryptedFiles_inTextAndJson() throws Exception {
        Path out = packEncrypted("secrets/**", List.of(ageRecipient("finance")), "--pool", "finance");

        Run text = kgctl.run("bundle", "inspect", out.toString());
        assertThat(text.exitCode()).as(text.err()).isZero();
        assertThat(text.out()).contains("pools:     finance\n");
        assertThat(text.out()).containsPattern("  secrets/db\\.pw  \\(encrypted: age\\)\n");
        assertThat(text.out()).containsPattern("  readme\\.txt\n");

        Run js = kgctl.run("bundle", "inspect", out.toString(), "--output", "json");
        JsonNode n = json.readTree(js.out());
        assertThat(n.get("pools").get(0).asText()).isEqualTo("finance");
        Map<String, JsonNode> byPath = new java.util.TreeMap<>();
        n.get("files").forEach(file -> byPath.put(file.get("path").asText(), file));
        assertThat(byPath.get("secrets/db.pw").get("encrypted").asText()).isEqualTo("age");
        assertThat(byPath.get("readme.txt").get("encrypted").isNull()).isTrue();

        Run plain = kgctl.run("bundle", "inspect", f.pack("plain", 1).toString());
        assertThat(plain.out()).contains("pools:     - (every VM)").doesNotContain("encrypted");
    }

    @Test
    void pack_encrypt_archiveHoldsNoPlaintext_manifestSaysAge_andVerifyPasses() throws Exception {
        Path out = packEncrypted("secrets/**", List.of(ageRecipient("finance")));

        byte[] archive = Files.readAllBytes(out);
        assertThat(indexOf(archive, SECRET.getBytes(StandardCharsets.UTF_8))).as("plaintext in the archive").isEqualTo(-1);
        assertThat(indexOf(archive, "correct-horse".getBytes(StandardCharsets.UTF_8))).isEqualTo(-1);
        Map<String, byte[]> entries = BundleFixture.entries(out);
        assertThat(new String(entries.get("files/secrets/db.pw"), StandardCharsets.ISO_8859_1)).startsWith("age-encryption.org/v1\n");
        assertThat(new String(entries.get("files/readme.txt"), StandardCharsets.UTF_8)).isEqualTo("hello"); // unmatched: plain
        String manifest = new String(entries.get("manifest.json"), StandardCharsets.UTF_8);
        assertThat(manifest).contains("{\"encrypted\":\"age\",\"path\":\"secrets/db.pw\",");
        assertThat(manifest).containsOnlyOnce("encrypted");

        Run v = kgctl.run("bundle", "verify", out.toString(), "--trust", f.pub.toString());
        assertThat(v.exitCode()).as(v.err()).isZero();
    }

    @Test
    void pack_encrypt_globsUsePathMatcherSemantics_starStaysInOneDirectory() throws Exception {
        Files.writeString(f.src.resolve("top.pw"), "top-secret-value-1");
        String recipient = ageRecipient("finance");

        Path star = packEncrypted("*.pw", List.of(recipient));
        assertThat(encryptedPaths(star)).containsExactly("top.pw");

        Path both = packEncrypted("{*.pw,**/*.pw}", List.of(recipient));
        assertThat(encryptedPaths(both)).containsExactly("secrets/db.pw", "top.pw");
    }

    @Test
    void pack_text_saysWhatWasEncryptedAndForWhichPools() throws Exception {
        Path out = dir.resolve("t.tar");
        Run r = kgctl.run("bundle", "pack", f.src.toString(), "--name", "fin", "--version", "1", "--key", f.key.toString(),
                "--out", out.toString(), "--pool", "finance", "--encrypt", "secrets/**",
                "--recipient", ageRecipient("a"), "--recipient", ageRecipient("b"));

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("pools: finance (only their VMs see it)\n",
                "encrypted (age, to 2 recipients): secrets/db.pw\n");
    }

    @Test
    void pack_encryptWithoutRecipient_orTheReverse_isAUsageError() throws Exception {
        Path out = dir.resolve("x.tar");

        Run noRecipient = pack(out, "--encrypt", "secrets/**");
        assertThat(noRecipient.exitCode()).isEqualTo(2);
        assertThat(noRecipient.errLine()).isEqualTo("kgctl bundle pack: --encrypt needs --recipient AGE_RECIPIENT (who can decrypt)"
                + " (see 'kgctl bundle pack --help')");

        Run noGlob = pack(out, "--recipient", ageRecipient("finance"));
        assertThat(noGlob.exitCode()).isEqualTo(2);
        assertThat(noGlob.errLine()).isEqualTo("kgctl bundle pack: --recipient needs --encrypt GLOB (which files to encrypt)"
                + " (see 'kgctl bundle pack --help')");
        assertThat(out).doesNotExist();
    }

    @Test
    void pack_recipientThatIsNotAnAgeX25519Recipient_isAClearUsageError() throws Exception {
        Path out = dir.resolve("x.tar");
        String good = ageRecipient("finance");
        String secretKey = Files.readAllLines(dir.resolve("age/finance.agekey")).get(2);
        // one changed character breaks the Bech32 checksum
        String corrupted = good.substring(0, good.length() - 1) + (good.endsWith("q") ? "p" : "q");

        for (String bad : List.of("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5", secretKey, corrupted, "age1", "age1yubikey1qwerty")) {
            Run r = pack(out, "--encrypt", "secrets/**", "--recipient", good, "--recipient", bad);
            assertThat(r.exitCode()).as(bad).isEqualTo(2);
            assertThat(r.errLine()).as(bad).startsWith("kgctl bundle pack: --recipient \"" + bad + "\" is not an age X25519 recipient")
                    .doesNotContain("\n");
        }
        assertThat(out).doesNotExist();
    }

    @Test
    void pack_globThatMatchesNoFile_isAnError_andWritesNothing() throws Exception {
        Path out = dir.resolve("x.tar");

        Run r = pack(out, "--encrypt", "secrets/**", "--encrypt", "secret/**", "--recipient", ageRecipient("finance"));

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.errLine()).isEqualTo("kgctl bundle pack: --encrypt \"secret/**\" matches no file under " + f.src + "; nothing written");
        assertThat(out).doesNotExist();
    }

    @Test
    void pack_badGlobSyntax_isAUsageError() throws Exception {
        Run r = pack(dir.resolve("x.tar"), "--encrypt", "secrets/[a", "--recipient", ageRecipient("finance"));

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.errLine()).startsWith("kgctl bundle pack: --encrypt \"secrets/[a\" is not a glob: ").doesNotContain("\n");
    }

    @Test
    void pack_badPoolName_isAOneLineUsageError() {
        Path out = dir.resolve("x.tar");

        for (String bad : List.of("Finance", "fin ance", ".x", "", "a".repeat(65))) {
            Run r = pack(out, "--pool", "finance", "--pool", bad);
            assertThat(r.exitCode()).as(bad).isEqualTo(2);
            assertThat(r.errLine()).as(bad).isEqualTo("kgctl bundle pack: --pool \"" + bad + "\" does not match "
                    + "^[a-z0-9][a-z0-9._-]{0,63}$ (see 'kgctl bundle pack --help')");
        }
        assertThat(out).doesNotExist();
    }

    @Test
    void pack_tooManyPools_isAUsageError() {
        List<String> args = new ArrayList<>();
        for (int i = 0; i < 65; i++) {
            args.add("--pool");
            args.add("p" + i);
        }
        Run r = pack(dir.resolve("x.tar"), args.toArray(String[]::new));

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.errLine()).startsWith("kgctl bundle pack: at most 64 --pool names");
    }

    /** A new age identity DIR/age/NAME.agekey made by kgctl; its recipient. */
    private String ageRecipient(String name) throws Exception {
        Run r = kgctl.run("keys", "generate", "--age", "--out", dir.resolve("age").toString(), "--name", name, "--output", "json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        return json.readTree(r.out()).get("recipient").asText();
    }

    private Path packEncrypted(String glob, List<String> recipients, String... more) {
        Path out = dir.resolve("enc-" + Math.abs((glob + recipients + Arrays.toString(more)).hashCode()) + ".tar");
        List<String> args = new ArrayList<>(List.of("--encrypt", glob));
        recipients.forEach(r -> args.addAll(List.of("--recipient", r)));
        args.addAll(List.of(more));
        Run r = pack(out, args.toArray(String[]::new));
        assertThat(r.exitCode()).as(r.err()).isZero();
        return out;
    }

    private Run pack(Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("bundle", "pack", f.src.toString(), "--name", "fin", "--version", "1",
                "--key", f.key.toString(), "--out", out.toString()));
        args.addAll(List.of(extra));
        return kgctl.run(args.toArray(String[]::new));
    }

    private List<String> encryptedPaths(Path archive) throws Exception {
        JsonNode m = json.readTree(BundleFixture.entries(archive).get("manifest.json"));
        List<String> paths = new ArrayList<>();
        m.get("files").forEach(file -> {
            if (file.has("encrypted")) {
                paths.add(file.get("path").asText());
            }
        });
        return paths;
    }

    static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
