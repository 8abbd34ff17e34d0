package io.knowngood.cli.bundle;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.knowngood.cli.KgctlRunner;
import io.knowngood.cli.KgctlRunner.Run;
import io.knowngood.crypto.bundle.Sha256;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bundle pack --expires/--rollout} and how {@code bundle inspect} shows them (crypto's
 * PackOptions and RolloutPolicy.parseJson, wired in {@link Packing}).
 */
class PackRolloutExpiryTest {
    static final Instant NOW = KgctlRunner.CLOCK.instant();
    static final String POLICY = "{\"waves\":[{\"hosts\":[\"host-17\",\"host-18\"]},{\"labels\":{\"rack\":\"r1\"}},{\"percent\":10}],"
            + "\"promote_ok\":4,\"promote_after_s\":600,\"revert_failed\":1}";

    @TempDir
    Path dir;

    private BundleFixture f;

    @BeforeEach
    void setUp() throws Exception {
        f = new BundleFixture(dir);
    }

    // ---- --expires values ----

    static Instant at(String text) {
        Expiry.Parse p = Expiry.parse(text, NOW);
        assertThat(p).as(text).isInstanceOf(Expiry.Parse.At.class);
        return ((Expiry.Parse.At) p).expires();
    }

    static String invalid(String text) {
        Expiry.Parse p = Expiry.parse(text, NOW);
        assertThat(p).as(text).isInstanceOf(Expiry.Parse.Invalid.class);
        return ((Expiry.Parse.Invalid) p).reason();
    }

    @Test
    void expires_durations_areFromTheInjectedNow() {
        assertThat(at("30d")).isEqualTo("2026-12-25T10:00:00Z");
        assertThat(at("12h")).isEqualTo("2026-11-25T22:00:00Z");
        assertThat(at("90m")).isEqualTo("2026-11-25T11:30:00Z");
        assertThat(at("45s")).isEqualTo("2026-11-25T10:00:45Z");
        assertThat(at("PT36H")).isEqualTo("2026-11-26T22:00:00Z");
        assertThat(at("P7D")).isEqualTo("2026-12-02T10:00:00Z");
    }

    @Test
    void expires_rfc3339_withZOrAnOffset() {
        assertThat(at("2026-12-31T00:00:00Z")).isEqualTo("2026-12-31T00:00:00Z");
        assertThat(at("2026-12-31T01:00:00+01:00")).isEqualTo("2026-12-31T00:00:00Z");
        assertThat(at("2026-12-31T00:00:00.750Z")).isEqualTo("2026-12-31T00:00:00Z");
    }

    @Test
    void expires_badValues_sayWhatIsAccepted() {
        assertThat(invalid("tomorrow")).isEqualTo("--expires tomorrow is neither a duration (30d, 12h, 90m, 45s, PT36H) "
                + "nor an RFC 3339 time (2026-12-31T00:00:00Z)");
        assertThat(invalid("30x")).startsWith("--expires 30x is neither");
        assertThat(invalid("-5d")).startsWith("--expires -5d is neither");
        assertThat(invalid("2026-12-31")).startsWith("--expires 2026-12-31 is neither");
        assertThat(invalid("2026-12-31T00:00:00")).startsWith("--expires 2026-12-31T00:00:00 is neither");
        assertThat(invalid("PT-1H")).isEqualTo("--expires PT-1H is not a positive duration");
        assertThat(invalid("PT0.5S")).isEqualTo("--expires PT0.5S is not after now (2026-11-25T10:00:00Z)"); // whole seconds
        assertThat(invalid("0h")).isEqualTo("--expires 0h is not after now (2026-11-25T10:00:00Z)");
        assertThat(invalid("2026-11-24T00:00:00Z")).isEqualTo("--expires 2026-11-24T00:00:00Z is not after now (2026-11-25T10:00:00Z)");
    }

    private Run pack(String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("bundle", "pack", f.src.toString(), "--name", "printers", "--version", "3",
                "--key", f.key.toString(), "--out", dir.resolve("p.tar").toString()));
        args.addAll(List.of(more));
        return f.kgctl.run(args.toArray(String[]::new));
    }

    @Test
    void pack_badExpires_exit2_oneLine_nothingWritten() {
        Run r = pack("--expires", "soon");

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.errLine()).isEqualTo("kgctl bundle pack: --expires soon is neither a duration (30d, 12h, 90m, 45s, PT36H) "
                + "nor an RFC 3339 time (2026-12-31T00:00:00Z) (see 'kgctl bundle pack --help')");
        assertThat(dir.resolve("p.tar")).doesNotExist();
    }

    @Test
    void pack_missingRolloutFile_exit3() {
        Run r = pack("--rollout", dir.resolve("canary.json").toString());

        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.errLine()).isEqualTo("kgctl bundle pack: no such file or directory: " + dir.resolve("canary.json"));
    }

    @Test
    void packHelp_documentsTheNewFlags() {
        Run r = f.kgctl.run("bundle", "pack", "--help");

        assertThat(r.out()).contains("--expires=DURATION|RFC3339", "--rollout=FILE.json", "Exit codes:");
    }

    // ---- inspect: expires and rollout (hand-built manifest, signature not checked) ----

    private Path handBuilt(String extra) throws IOException {
        byte[] readme = "hello".getBytes(StandardCharsets.UTF_8);
        String manifest = "{\"created\":\"2026-11-25T10:00:00Z\"" + extra + ",\"files\":[{\"path\":\"readme.txt\",\"sha256\":\""
                + Sha256.hex(readme) + "\",\"size\":5}],\"name\":\"printers\",\"schema\":1,\"version\":3}";
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
            entry(tar, "manifest.json", manifest.getBytes(StandardCharsets.UTF_8));
            entry(tar, "signatures.json", "[]".getBytes(StandardCharsets.UTF_8));
            entry(tar, "files/readme.txt", readme);
        }
        return Files.write(dir.resolve("hand.tar"), out.toByteArray());
    }

    private static void entry(TarArchiveOutputStream tar, String name, byte[] content) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setSize(content.length);
        tar.putArchiveEntry(e);
        tar.write(content);
        tar.closeArchiveEntry();
    }

    @Test
    void inspect_showsExpiresAndTheRolloutPolicy() throws Exception {
        Path archive = handBuilt(",\"expires\":\"2026-12-25T10:00:00Z\",\"rollout\":" + POLICY);

        Run r = f.kgctl.run("bundle", "inspect", archive.toString());

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("expires:   2026-12-25T10:00:00Z\n"
                + "rollout:   3 waves then all hosts; promote at 4 ok and 600 s in a wave; revert at 1 failed\n"
                + "           wave 1: hosts host-17, host-18\n"
                + "           wave 2: labels rack=r1\n"
                + "           wave 3: 10 percent of hosts\n"
                + "           wave 4: all hosts (implied)\n");
    }

    @Test
    void inspect_json_rolloutAsWavesAndNumbers_nullWithout() throws Exception {
        Path archive = handBuilt(",\"rollout\":" + POLICY);
        JsonNode n = new ObjectMapper().readTree(f.kgctl.run("bundle", "inspect", archive.toString(), "-o", "json").out());

        JsonNode r = n.get("rollout");
        assertThat(r.get("promoteOk").asInt()).isEqualTo(4);
        assertThat(r.get("promoteAfterSeconds").asLong()).isEqualTo(600);
        assertThat(r.get("revertFailed").asInt()).isEqualTo(1);
        assertThat(r.get("waves").get(0).get("hosts").get(1).asText()).isEqualTo("host-18");
        assertThat(r.get("waves").get(0).has("percent")).isFalse();
        assertThat(r.get("waves").get(1).get("labels").get("rack").asText()).isEqualTo("r1");
        assertThat(r.get("waves").get(2).get("percent").asInt()).isEqualTo(10);
        assertThat(n.get("expires").isNull()).isTrue();

        JsonNode plain = new ObjectMapper().readTree(f.kgctl.run("bundle", "inspect", handBuilt("").toString(), "-o", "json").out());
        assertThat(plain.get("rollout").isNull()).isTrue();
    }

    @Test
    void inspect_rolloutWithNoWaves_isAllHostsAtOnce() throws Exception {
        Path archive = handBuilt(",\"rollout\":{\"promote_after_s\":300,\"promote_ok\":3,\"revert_failed\":2,\"waves\":[]}");

        Run r = f.kgctl.run("bundle", "inspect", archive.toString());

        assertThat(r.out()).contains("rollout:   all hosts at once; promote at 3 ok and 300 s in a wave; revert at 2 failed\n"
                + "           wave 1: all hosts (implied)\n");
    }

    // ---- packing with an expiry or a policy (need crypto's PackOptions and RolloutPolicy.parseJson) ----

    @Test
    void pack_expires30d_isSignedIntoTheManifest_andVerifies() {
        Run r = pack("--expires", "30d");

        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("expires 2026-12-25T10:00:00Z");
        Run inspect = f.kgctl.run("bundle", "inspect", dir.resolve("p.tar").toString(), "--trust", f.pub.toString());
        assertThat(inspect.exitCode()).as(inspect.err()).isZero();
        assertThat(inspect.out()).contains("expires:   2026-12-25T10:00:00Z", "signature: valid");
    }

    @Test
    void pack_rollout_isSignedIntoTheManifest_withDefaultsWrittenOut() throws Exception {
        Path policy = Files.writeString(dir.resolve("canary.json"), "{\"waves\":[{\"hosts\":[\"host-17\"]}]}");

        Run r = pack("--rollout", policy.toString(), "-o", "json");

        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode n = new ObjectMapper().readTree(r.out());
        assertThat(n.get("rollout").get("promoteOk").asInt()).isEqualTo(3);
        assertThat(n.get("rollout").get("promoteAfterSeconds").asLong()).isEqualTo(300);
        assertThat(n.get("rollout").get("revertFailed").asInt()).isEqualTo(2);
        String manifest = new String(BundleFixture.entries(dir.resolve("p.tar")).get("manifest.json"), StandardCharsets.UTF_8);
        assertThat(manifest).contains("\"rollout\":{\"promote_after_s\":300,\"promote_ok\":3,\"revert_failed\":2,\"waves\":[{\"hosts\":[\"host-17\"]}]}");
        Run verify = f.kgctl.run("bundle", "verify", dir.resolve("p.tar").toString(), "--trust", f.pub.toString());
        assertThat(verify.exitCode()).as(verify.err()).isZero();
    }

    @Test
    void pack_badRolloutFile_exit2_withTheReason() throws Exception {
        Path notJson = Files.writeString(dir.resolve("a.json"), "waves: all");
        Path badPercent = Files.writeString(dir.resolve("b.json"), "{\"waves\":[{\"percent\":150}]}");

        Run a = pack("--rollout", notJson.toString());
        Run b = pack("--rollout", badPercent.toString());

        assertThat(a.exitCode()).isEqualTo(2);
        assertThat(a.errLine()).startsWith("kgctl bundle pack: --rollout " + notJson + ": ");
        assertThat(b.exitCode()).isEqualTo(2);
        assertThat(b.errLine()).startsWith("kgctl bundle pack: --rollout " + badPercent + ": ").contains("percent");
        assertThat(dir.resolve("p.tar")).doesNotExist();
    }
}
