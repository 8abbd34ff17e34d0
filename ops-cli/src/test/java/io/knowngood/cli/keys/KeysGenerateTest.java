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
    void generate_badNameOrMissingOut_exits2() {
        assertThat(kgctl.run("keys", "generate", "--out", dir.toString(), "--name", "../evil").exitCode()).isEqualTo(2);
        assertThat(kgctl.run("keys", "generate").exitCode()).isEqualTo(2);
    }

    @Test
    void help_listsExamplesAndExitCodes() {
        Run r = kgctl.run("keys", "generate", "--help");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("Examples:", "kgctl keys generate --out", "Exit codes:", "no node could be reached");
    }
}
