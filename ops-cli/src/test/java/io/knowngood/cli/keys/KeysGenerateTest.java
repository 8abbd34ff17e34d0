package io.knowngood.cli.keys;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.knowngood.cli.KgctlRunner;
import io.knowngood.cli.KgctlRunner.Run;
import io.knowngood.crypto.bundle.Ed25519Keys;
import io.knowngood.crypto.bundle.KeyId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeysGenerateTest {
    @TempDir
    Path dir;

    private final KgctlRunner kgctl = new KgctlRunner();

    @Test
    void generate_writesBothFiles_andPrintsTheKeyId() throws Exception {
        Run r = kgctl.run("keys", "generate", "--out", dir.toString(), "--name", "ops", "--output", "json");

        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode n = new ObjectMapper().readTree(r.out());
        String keyId = KeyId.of(Ed25519Keys.readPublicPem(dir.resolve("ops.pub"))).hex();
        assertThat(n.get("keyId").asText()).isEqualTo(keyId);
        assertThat(Ed25519Keys.publicKeyOf(Ed25519Keys.readPrivatePem(dir.resolve("ops.key"))).getEncoded())
                .isEqualTo(Ed25519Keys.readPublicPem(dir.resolve("ops.pub")).getEncoded());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("ops.key")))).isEqualTo("rw-------");
    }

    @Test
    void generate_neverOverwrites_exits3() throws Exception {
        Files.writeString(dir.resolve("publisher.pub"), "keep me");

        Run r = kgctl.run("keys", "generate", "--out", dir.toString());

        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.errLine()).isEqualTo("kgctl keys generate: already exists: " + dir.resolve("publisher.pub"));
        assertThat(Files.readString(dir.resolve("publisher.pub"))).isEqualTo("keep me");
        assertThat(dir.resolve("publisher.key")).doesNotExist();
    }

    @Test
    void generate_outIsAFile_exits3SayingItIsNotADirectory() throws Exception {
        Path file = Files.writeString(dir.resolve("publisher.key"), "keep me");

        Run r = kgctl.run("keys", "generate", "--out", file.toString(), "--name", "x");

        // before: "already exists: FILE", as if a key of that name were there
        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.errLine()).isEqualTo("kgctl keys generate: --out " + file + ": not a directory (the directory the key files are written into)");
        assertThat(Files.readString(file)).isEqualTo("keep me");
    }

    @Test
    void generate_badNameOrMissingOut_exits2() {
        assertThat(kgctl.run("keys", "generate", "--out", dir.toString(), "--name", "../evil").exitCode()).isEqualTo(2);
        assertThat(kgctl.run("keys", "generate").exitCode()).isEqualTo(2);
    }

    @Test
    void generateAge_writesAnIdentityFileInAgeKeygensLayout_mode0600_andPrintsTheRecipient() throws Exception {
        Run r = kgctl.run("keys", "generate", "--age", "--out", dir.toString(), "--name", "finance", "--output", "json");

        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode n = new ObjectMapper().readTree(r.out());
        String recipient = n.get("recipient").asText();
        assertThat(recipient).matches("age1[02-9ac-hj-np-z]{58}");
        assertThat(n.get("identity").asText()).isEqualTo(dir.resolve("finance.agekey").toString());
        Path id = dir.resolve("finance.agekey");
        List<String> lines = Files.readAllLines(id);
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0)).isEqualTo("# created: 2026-11-25T10:00:00Z"); // KgctlRunner's clock
        assertThat(lines.get(1)).isEqualTo("# public key: " + recipient);
        assertThat(lines.get(2)).matches("AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}");
        assertThat(Files.readString(id)).endsWith("\n");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(id))).isEqualTo("rw-------");
        assertThat(dir.resolve("finance.key")).doesNotExist();
    }

    @Test
    void generateAge_text_printsRecipient_andNameDefaultsToPool() {
        Run r = kgctl.run("keys", "generate", "--age", "--out", dir.toString());

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("recipient: age1").contains("identity:  " + dir.resolve("pool.agekey"));
        assertThat(dir.resolve("pool.agekey")).exists();
    }

    @Test
    void generateAge_twoRuns_makeDifferentKeys() throws Exception {
        kgctl.run("keys", "generate", "--age", "--out", dir.toString(), "--name", "a");
        kgctl.run("keys", "generate", "--age", "--out", dir.toString(), "--name", "b");

        assertThat(Files.readAllLines(dir.resolve("a.agekey")).get(2)).isNotEqualTo(Files.readAllLines(dir.resolve("b.agekey")).get(2));
    }

    @Test
    void generateAge_neverOverwrites_exits3() throws Exception {
        Files.writeString(dir.resolve("finance.agekey"), "keep me");

        Run r = kgctl.run("keys", "generate", "--age", "--out", dir.toString(), "--name", "finance");

        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.errLine()).isEqualTo("kgctl keys generate: already exists: " + dir.resolve("finance.agekey"));
        assertThat(Files.readString(dir.resolve("finance.agekey"))).isEqualTo("keep me");
    }

    @Test
    void help_listsExamplesAndExitCodes() {
        Run r = kgctl.run("keys", "generate", "--help");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("Examples:", "kgctl keys generate --out", "Exit codes:", "no node could be reached");
    }
}
