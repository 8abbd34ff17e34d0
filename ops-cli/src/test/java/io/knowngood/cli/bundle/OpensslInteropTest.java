package io.knowngood.cli.bundle;

import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.knowngood.testkit.Ci;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 3's done-when: what kgctl writes is checkable with stock openssl, so a VM (or an auditor)
 * needs no knowngood code. Skipped, with a message, where openssl is not installed; failed under
 * CI=true (CI installs it).
 */
class OpensslInteropTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void needsOpenssl() {
        String missing = opensslAvailable() ? null : "openssl is not installed (CI installs it)";
        assumeTrue(Ci.available(missing), missing);
    }

    @Test
    void bundlePackedByKgctl_verifiesWithOpensslPkeyutl() throws Exception {
        BundleFixture f = new BundleFixture(dir);
        Path archive = f.pack("desktop-base", 7);

        Map<String, byte[]> entries = BundleFixture.entries(archive);
        assertThat(entries.keySet()).containsExactly("manifest.json", "signatures.json", "files/etc/app.conf", "files/readme.txt");
        Path manifest = Files.write(dir.resolve("manifest.json"), entries.get("manifest.json"));
        JsonNode sigs = new ObjectMapper().readTree(entries.get("signatures.json"));
        assertThat(sigs).hasSize(1);
        Path sig = Files.write(dir.resolve("SIG.bin"), Base64.getDecoder().decode(sigs.get(0).get("sig").asText()));

        Result ok = openssl("pkeyutl", "-verify", "-pubin", "-inkey", f.pub.toString(), "-rawin",
                "-in", manifest.toString(), "-sigfile", sig.toString());
        assertThat(ok.exitCode()).as(ok.output()).isZero();
        assertThat(ok.output()).contains("Signature Verified Successfully");

        // and openssl is really checking: one changed byte in the manifest fails
        Path altered = Files.writeString(dir.resolve("altered.json"),
                new String(entries.get("manifest.json"), StandardCharsets.UTF_8).replace("\"version\":7", "\"version\":8"));
        Result bad = openssl("pkeyutl", "-verify", "-pubin", "-inkey", f.pub.toString(), "-rawin",
                "-in", altered.toString(), "-sigfile", sig.toString());
        assertThat(bad.exitCode()).isNotZero();
    }

    /** A key rotation's bundle, {@code bundle pack --key OLD --key NEW}: each signature verifies under its own key with openssl. */
    @Test
    void bundlePackedWithTwoKeys_carriesOneSignaturePerKey_eachVerifiedByOpensslUnderItsKey() throws Exception {
        BundleFixture f = new BundleFixture(dir);
        io.knowngood.cli.KgctlRunner.Run gen = f.kgctl.run("keys", "generate", "--out", dir.resolve("keys2").toString(), "--name", "pub2");
        assertThat(gen.exitCode()).as(gen.err()).isZero();
        Path newKey = dir.resolve("keys2/pub2.key");
        Path newPub = dir.resolve("keys2/pub2.pub");
        Path archive = dir.resolve("both.tar");
        io.knowngood.cli.KgctlRunner.Run packed = f.kgctl.run("bundle", "pack", f.src.toString(), "--name", "desktop-base", "--version", "8",
                "--key", f.key.toString(), "--key", newKey.toString(), "--out", archive.toString());
        assertThat(packed.exitCode()).as(packed.err()).isZero();
        assertThat(packed.out()).containsPattern("signed by [0-9a-f]{64} and [0-9a-f]{64}\n");

        Map<String, byte[]> entries = BundleFixture.entries(archive);
        Path manifest = Files.write(dir.resolve("manifest.json"), entries.get("manifest.json"));
        JsonNode sigs = new ObjectMapper().readTree(entries.get("signatures.json"));
        assertThat(sigs).hasSize(2);
        for (int i = 0; i < 2; i++) {
            Path sig = Files.write(dir.resolve("SIG" + i + ".bin"), Base64.getDecoder().decode(sigs.get(i).get("sig").asText()));
            Path pub = i == 0 ? f.pub : newPub;
            Path other = i == 0 ? newPub : f.pub;
            Result ok = openssl("pkeyutl", "-verify", "-pubin", "-inkey", pub.toString(), "-rawin", "-in", manifest.toString(), "-sigfile", sig.toString());
            Result crossed = openssl("pkeyutl", "-verify", "-pubin", "-inkey", other.toString(), "-rawin", "-in", manifest.toString(),
                    "-sigfile", sig.toString());
            assertThat(ok.exitCode()).as(ok.output()).isZero();
            assertThat(crossed.exitCode()).as("signature %d is not the other key's", i).isNotZero();
        }
        for (Path pub : List.of(f.pub, newPub)) {
            io.knowngood.cli.KgctlRunner.Run verified = f.kgctl.run("bundle", "verify", archive.toString(), "--trust", pub.toString());
            assertThat(verified.exitCode()).as(verified.err()).isZero();
        }
    }

    @Test
    void keyFilesWrittenByKgctl_areReadByOpensslPkey() throws Exception {
        BundleFixture f = new BundleFixture(dir);

        Result priv = openssl("pkey", "-in", f.key.toString(), "-noout");
        Result pub = openssl("pkey", "-pubin", "-in", f.pub.toString(), "-noout");

        assertThat(priv.exitCode()).as(priv.output()).isZero();
        assertThat(pub.exitCode()).as(pub.output()).isZero();
        // the public key openssl derives from the private key file is the one in NAME.pub
        Result derived = openssl("pkey", "-in", f.key.toString(), "-pubout");
        assertThat(derived.output().strip()).isEqualTo(Files.readString(f.pub).strip());
    }

    private record Result(int exitCode, String output) {
    }

    private static Result openssl(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add("openssl");
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("openssl finished").isTrue();
        return new Result(p.exitValue(), out);
    }

    private static boolean opensslAvailable() {
        try {
            Process p = new ProcessBuilder("openssl", "version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
