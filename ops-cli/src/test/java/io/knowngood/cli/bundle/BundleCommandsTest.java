package io.knowngood.cli.bundle;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.knowngood.cli.KgctlRunner;
import io.knowngood.cli.KgctlRunner.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Exit codes and error lines of {@code bundle pack|verify|inspect}, and their JSON output. */
class BundleCommandsTest {
    @TempDir
    Path dir;

    private BundleFixture f;
    private final KgctlRunner kgctl = new KgctlRunner();
    private final ObjectMapper json = new ObjectMapper();

    @BeforeEach
    void setUp() throws Exception {
        f = new BundleFixture(dir);
    }

    @Test
    void pack_thenVerify_isValid() {
        Path archive = f.pack("desktop-base", 7);

        Run r = kgctl.run("bundle", "verify", archive.toString(), "--trust", f.pub.toString());

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).startsWith("valid: desktop-base version 7, 2 files, 15 bytes, signed by ");
        assertThat(r.err()).isEmpty();
    }

    @Test
    void pack_json_hasStableFields() throws Exception {
        Path out = dir.resolve("b.tar");
        Run r = kgctl.run("bundle", "pack", f.src.toString(), "--name", "b", "--version", "2", "--key", f.key.toString(),
                "--out", out.toString(), "--label", "env=prod", "--output", "json");

        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode n = json.readTree(r.out());
        assertThat(n.get("name").asText()).isEqualTo("b");
        assertThat(n.get("version").asLong()).isEqualTo(2);
        assertThat(n.get("files").asInt()).isEqualTo(2);
        assertThat(n.get("manifestDigest").asText()).hasSize(64);
        assertThat(n.get("keyId").asText()).hasSize(64);
        assertThat(Files.size(out)).isEqualTo(n.get("archiveBytes").asLong());
    }

    @Test
    void verify_tamperedFile_exits1WithReasonCode() throws Exception {
        Path tampered = BundleFixture.tamper(f.pack("a", 1), "hello", "jello");

        Run r = kgctl.run("bundle", "verify", tampered.toString(), "--trust", f.pub.toString());

        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.errLine()).startsWith("kgctl bundle verify: rejected: hash_mismatch: ").doesNotContain("\n");
    }

    @Test
    void verify_tamperedManifest_exits1BadSignature() throws Exception {
        // same length, so the tar stays well-formed and the manifest still parses
        Path tampered = BundleFixture.tamper(f.pack("a", 1), "\"name\":\"a\"", "\"name\":\"b\"");

        Run r = kgctl.run("bundle", "verify", tampered.toString(), "--trust", f.pub.toString(), "--output", "json");

        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.errLine()).startsWith("kgctl bundle verify: rejected: bad_signature: ");
        assertThat(r.out()).contains("\"valid\" : false", "\"code\" : \"bad_signature\"");
    }

    @Test
    void verify_withAnotherKey_exits1UntrustedKey() throws Exception {
        Path archive = f.pack("a", 1);
        kgctl.run("keys", "generate", "--out", dir.resolve("other").toString());

        Run r = kgctl.run("bundle", "verify", archive.toString(), "--trust", dir.resolve("other/publisher.pub").toString());

        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.errLine()).contains("rejected: untrusted_key");
    }

    @Test
    void verify_expectedNameDiffers_exits1NameMismatch() {
        Path archive = f.pack("a", 1);

        Run r = kgctl.run("bundle", "verify", archive.toString(), "--trust", f.pub.toString(), "--name", "b");

        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.errLine()).contains("rejected: name_mismatch");
    }

    @Test
    void verify_garbage_exits1MalformedArchive() throws Exception {
        Path junk = Files.writeString(dir.resolve("junk.tar"), "this is not a tar archive");

        Run r = kgctl.run("bundle", "verify", junk.toString(), "--trust", f.pub.toString());

        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.errLine()).contains("rejected: ");
    }

    @Test
    void verify_missingFile_exits3() {
        Run r = kgctl.run("bundle", "verify", dir.resolve("nope.tar").toString(), "--trust", f.pub.toString());

        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.errLine()).isEqualTo("kgctl bundle verify: no such file or directory: " + dir.resolve("nope.tar"));
    }

    @Test
    void verify_missingTrustKeyFile_exits3() {
        Path archive = f.pack("a", 1);

        Run r = kgctl.run("bundle", "verify", archive.toString(), "--trust", dir.resolve("none.pub").toString());

        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.errLine()).contains("none.pub");
    }

    @Test
    void verify_trustFileIsNotAKey_exits3NamingTheFile() throws Exception {
        Path archive = f.pack("a", 1);
        Path notKey = Files.writeString(dir.resolve("notkey.pub"), "hello");

        Run r = kgctl.run("bundle", "verify", archive.toString(), "--trust", notKey.toString());

        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.errLine()).contains("notkey.pub").doesNotContain("\n").doesNotContain("Exception");
    }

    @Test
    void verify_withoutTrust_exits2() {
        Path archive = f.pack("a", 1);

        Run r = kgctl.run("bundle", "verify", archive.toString());

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.errLine()).isEqualTo("kgctl bundle verify: Missing required option: '--trust=PUB' (see 'kgctl bundle verify --help')");
    }

    @Test
    void pack_badArguments_exit2() {
        String src = f.src.toString();
        String key = f.key.toString();
        String out = dir.resolve("x.tar").toString();

        assertThat(kgctl.run("bundle", "pack", src, "--name", "Bad Name", "--version", "1", "--key", key, "--out", out).exitCode()).isEqualTo(2);
        assertThat(kgctl.run("bundle", "pack", src, "--name", "a", "--version", "0", "--key", key, "--out", out).exitCode()).isEqualTo(2);
        assertThat(kgctl.run("bundle", "pack", src, "--name", "a", "--version", "seven", "--key", key, "--out", out).exitCode()).isEqualTo(2);
        assertThat(kgctl.run("bundle", "pack", src, "--name", "a", "--version", "1", "--out", out).exitCode()).isEqualTo(2);
        assertThat(kgctl.run("bundle", "pack", src, "--name", "a", "--version", "1", "--key", key, "--out", out, "--bogus").exitCode()).isEqualTo(2);
        Run tooBig = kgctl.run("bundle", "pack", src, "--name", "a", "--version", "99999999999999999999", "--key", key, "--out", out);
        // before: "... '99999999999999999999' is not a long", Java's type name
        assertThat(tooBig.errLine()).isEqualTo("kgctl bundle pack: Invalid value for option '--version': '99999999999999999999' is not a "
                + "whole number of at most 9223372036854775807 (2^63-1) (see 'kgctl bundle pack --help')");
        Run r = kgctl.run("bundle", "pack", src, "--name", "a", "--version", "-3", "--key", key, "--out", out);
        assertThat(r.errLine()).isEqualTo("kgctl bundle pack: --version must be from 1 to 2^63-1, got -3 (see 'kgctl bundle pack --help')");
        assertThat(Files.exists(Path.of(out))).isFalse();
    }

    @Test
    void aDirectoryWhereAFileBelongs_exits3NamingIt() throws Exception {
        Path archive = f.pack("a", 1);
        Path folder = Files.createDirectories(dir.resolve("folder"));
        String key = f.key.toString();

        Run verify = kgctl.run("bundle", "verify", folder.toString(), "--trust", f.pub.toString());
        Run inspect = kgctl.run("bundle", "inspect", folder.toString());
        Run rollout = kgctl.run("bundle", "pack", f.src.toString(), "--name", "a", "--version", "2", "--key", key,
                "--out", dir.resolve("a2.tar").toString(), "--rollout", folder.toString());
        Run out = kgctl.run("bundle", "pack", f.src.toString(), "--name", "a", "--version", "2", "--key", key, "--out", folder.toString());

        // before: "Is a directory" with no path (inspect, --rollout), or exit 1 "malformed_archive" (verify)
        assertThat(verify.exitCode()).isEqualTo(3);
        assertThat(verify.errLine()).isEqualTo("kgctl bundle verify: is a directory: " + folder);
        assertThat(inspect.exitCode()).isEqualTo(3);
        assertThat(inspect.errLine()).isEqualTo("kgctl bundle inspect: is a directory: " + folder);
        assertThat(rollout.exitCode()).isEqualTo(3);
        assertThat(rollout.errLine()).isEqualTo("kgctl bundle pack: is a directory: " + folder);
        // before: the temp file's name, from its move after all the packing
        assertThat(out.exitCode()).isEqualTo(3);
        assertThat(out.errLine()).isEqualTo("kgctl bundle pack: --out " + folder + ": is a directory (give the archive's file name, e.g. "
                + folder.resolve("a-2.tar") + ")");
        try (var left = Files.list(folder)) {
            assertThat(left).isEmpty();
        }
        assertThat(kgctl.run("bundle", "verify", archive.toString(), "--trust", f.pub.toString()).exitCode()).isZero();
    }

    @Test
    void pack_labelWithoutKeyOrGivenTwice_exits2AndWritesNothing() {
        String out = dir.resolve("x.tar").toString();
        String[] base = {"bundle", "pack", f.src.toString(), "--name", "a", "--version", "1", "--key", f.key.toString(), "--out", out};

        Run emptyKey = kgctl.run(base, "--label", "=prod");
        Run noEquals = kgctl.run(base, "--label", "prod");
        Run twice = kgctl.run(base, "--label", "env=prod", "--label", "env=test");
        Run fine = kgctl.run(base, "--label", "env=", "--label", "note=a=b", "--output", "json");

        // before: "=prod" packed a label with an empty key, and env=test silently replaced env=prod
        assertThat(emptyKey.exitCode()).isEqualTo(2);
        assertThat(emptyKey.errLine()).isEqualTo("kgctl bundle pack: --label =prod: expected KEY=VALUE with a non-empty KEY (see 'kgctl bundle pack --help')");
        assertThat(noEquals.exitCode()).isEqualTo(2);
        assertThat(twice.exitCode()).isEqualTo(2);
        assertThat(twice.errLine()).isEqualTo("kgctl bundle pack: --label env given twice (see 'kgctl bundle pack --help')");
        assertThat(fine.exitCode()).as(fine.err()).isZero();
        Run inspect = kgctl.run("bundle", "inspect", out, "--output", "json");
        assertThat(inspect.out()).contains("\"env\" : \"\"", "\"note\" : \"a=b\"");
    }

    @Test
    void pack_missingSourceOrKey_exits3() {
        String out = dir.resolve("x.tar").toString();

        Run noSrc = kgctl.run("bundle", "pack", dir.resolve("nosrc").toString(), "--name", "a", "--version", "1",
                "--key", f.key.toString(), "--out", out);
        Run noKey = kgctl.run("bundle", "pack", f.src.toString(), "--name", "a", "--version", "1",
                "--key", dir.resolve("nokey").toString(), "--out", out);

        assertThat(noSrc.exitCode()).isEqualTo(3);
        assertThat(noSrc.errLine()).contains("no such file or directory: ").contains("nosrc");
        assertThat(noKey.exitCode()).isEqualTo(3);
        assertThat(noKey.errLine()).contains("nokey");
    }

    @Test
    void pack_symlinkInSource_exits1Refused() throws Exception {
        Files.createSymbolicLink(f.src.resolve("link"), f.src.resolve("readme.txt"));

        Run r = kgctl.run("bundle", "pack", f.src.toString(), "--name", "a", "--version", "1", "--key", f.key.toString(),
                "--out", dir.resolve("x.tar").toString());

        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.errLine()).startsWith("kgctl bundle pack: cannot pack ").contains("link");
    }

    @Test
    void inspect_withoutTrust_printsManifestAndSaysSignatureNotChecked() {
        Path archive = f.pack("desktop-base", 7);

        Run r = kgctl.run("bundle", "inspect", archive.toString());

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("name:      desktop-base", "version:   7", "created:   2026-11-25T10:00:00Z",
                "signature not checked", "etc/app.conf", "readme.txt", "all match the manifest");
    }

    @Test
    void inspect_withTrust_checksTheSignature() throws Exception {
        Path archive = f.pack("desktop-base", 7);

        Run r = kgctl.run("bundle", "inspect", archive.toString(), "--trust", f.pub.toString(), "--output", "json");

        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode n = json.readTree(r.out());
        assertThat(n.get("signature").asText()).isEqualTo("valid");
        assertThat(n.get("signerKeyIds").get(0).asText()).hasSize(64);
        assertThat(n.get("files").get(0).get("path").asText()).isEqualTo("etc/app.conf");
    }

    @Test
    void inspect_tamperedFile_showsMismatchAndExits1() throws Exception {
        Path tampered = BundleFixture.tamper(f.pack("a", 1), "hello", "jello");

        Run r = kgctl.run("bundle", "inspect", tampered.toString());

        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.out()).contains("readme.txt  MISMATCH");
        assertThat(r.errLine()).isEqualTo("kgctl bundle inspect: files do not match the manifest: readme.txt");
    }

    @Test
    void inspect_garbage_exits1() throws Exception {
        Path junk = Files.writeString(dir.resolve("junk.tar"), "not a tar");

        Run r = kgctl.run("bundle", "inspect", junk.toString());

        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.errLine()).startsWith("kgctl bundle inspect: ");
    }
}
